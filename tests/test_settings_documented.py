"""Every setting read from the environment is listed in .env.example (and nothing stale is)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_env_example_lists_every_setting():
    source = (ROOT / "eventconsole" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    listed = set(re.findall(r"^# ([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    launcher = set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', (ROOT / "eventconsole" / "launcher.py").read_text()))
    assert read | launcher <= listed, f"not in .env.example: {sorted((read | launcher) - listed)}"
    assert listed <= read | launcher, f"listed but never read: {sorted(listed - read - launcher)}"
