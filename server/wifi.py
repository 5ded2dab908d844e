"""The event's Wi-Fi as the start poster prints it: the settings (EVENT_WIFI_*) and the
standard ``WIFI:`` QR payload that phone cameras join a network from.

No Flask here: server/config.py reads it before the app exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECURITIES = ("WPA", "WEP", "SAE", "nopass")
"""What T: may say: WPA (WPA/WPA2 personal), WEP, SAE (WPA3 only), nopass (an open network)."""
SPECIAL = '\\;,:"'
"""Characters the format escapes with a backslash in S: and P:."""
TRUE = ("1", "true", "yes", "on")
SSID_MAX_BYTES = 32
WPA_PASSWORD_LENGTH = range(8, 64)
WEP_PASSWORD_LENGTHS = (5, 13, 16, 10, 26, 32)


def escape(text: str) -> str:
    """text with each of \\ ; , : " escaped by a backslash."""
    return "".join("\\" + c if c in SPECIAL else c for c in text)


def security_setting(value: str | None) -> str:
    """EVENT_WIFI_SECURITY as the payload spells it ("" when unset); a clear stop for anything
    else."""
    if not value or not value.strip():
        return ""
    for known in SECURITIES:
        if value.strip().lower() == known.lower():
            return known
    raise SystemExit(f"EVENT_WIFI_SECURITY must be one of {', '.join(SECURITIES)}, got {value!r}")


def security(value: str | None, password: str) -> str:
    """The security the code names: the setting, else WPA with a password and nopass without."""
    return security_setting(value) or ("WPA" if password else "nopass")


def hidden(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUE


@dataclass(frozen=True)
class Wifi:
    """The network phones join at the venue."""

    ssid: str
    password: str = ""
    security: str = "WPA"
    hidden: bool = False

    def payload(self) -> str:
        """WIFI:T:<security>;S:<ssid>;P:<password>;H:true;; (P only with a password, H only for
        a hidden network)."""
        parts = [f"T:{self.security}", f"S:{escape(self.ssid)}"]
        if self.security != "nopass":
            parts.append(f"P:{escape(self.password)}")
        if self.hidden:
            parts.append("H:true")
        return "WIFI:" + ";".join(parts) + ";;"

    def problems(self) -> list[str]:
        """What keeps phones from joining by the code (codes of box.wifi.problem.<code>)."""
        found = []
        if len(self.ssid.encode("utf-8")) > SSID_MAX_BYTES:
            found.append("ssid_too_long")
        if any(ord(c) < 32 or ord(c) == 127 for c in self.ssid + self.password):
            found.append("control_characters")
        if self.security in ("WPA", "SAE") and len(self.password) not in WPA_PASSWORD_LENGTH:
            found.append("wpa_password_length")
        if self.security == "WEP" and len(self.password) not in WEP_PASSWORD_LENGTHS:
            found.append("wep_password_length")
        if self.security == "nopass" and self.password:
            found.append("password_unused")
        return found


def from_settings(config: Mapping[str, Any]) -> Wifi | None:
    """The event's Wi-Fi from the app's settings; None without EVENT_WIFI_SSID."""
    ssid = config.get("EVENT_WIFI_SSID") or ""
    if not ssid:
        return None
    password = config.get("EVENT_WIFI_PASSWORD") or ""
    return Wifi(
        ssid,
        password,
        security(config.get("EVENT_WIFI_SECURITY"), password),
        bool(config.get("EVENT_WIFI_HIDDEN")),
    )


def printable(text: str) -> str:
    """text for a printed line: control characters as U+FFFD."""
    return "".join("\ufffd" if ord(c) < 32 or ord(c) == 127 else c for c in text)
