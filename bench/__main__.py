"""Run every bench module's main(): ``python -m bench``; a module that sets ``ALONE = True``
runs only on its own (bench.load: ``make bench-load``)."""

from __future__ import annotations

import importlib
import pkgutil

import bench


def main() -> None:
    for module in pkgutil.iter_modules(bench.__path__):
        if module.name.startswith("_"):
            continue
        bench_module = importlib.import_module(f"bench.{module.name}")
        if not getattr(bench_module, "ALONE", False):
            print(f"== bench.{module.name}")
            bench_module.main()


if __name__ == "__main__":
    main()
