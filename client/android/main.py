"""python-for-android's entry point: `make android` copies it to the top of build/android."""

from client.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
