"""Refresh the Vega scripts the site serves (book/_static/vega) from the npm registry.

The versions are pinned in one place, book/_static/vega/versions.json; tests/test_site.py
checks they match what the installed Altair emits. After upgrading Altair, edit that file and
run ``python tools/vendor_vega.py`` (needs ``npm``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "book" / "_static" / "vega"
BUILD_FILE = {"vega": "build/vega.min.js", "vega-lite": "build/vega-lite.min.js",
              "vega-embed": "build/vega-embed.min.js"}


def main() -> None:
    versions = json.loads((FOLDER / "versions.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        for name, version in versions.items():
            out = subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=tmp,
                                 check=True, capture_output=True, text=True).stdout.split()[-1]
            with tarfile.open(Path(tmp) / out) as tar:
                tar.extractall(Path(tmp) / name, filter="data")
            package = Path(tmp) / name / "package"
            shutil.copyfile(package / BUILD_FILE[name], FOLDER / f"{name}.min.js")
            shutil.copyfile(package / "LICENSE", FOLDER / f"LICENSE-{name}")
            print(f"{name} {version}")


if __name__ == "__main__":
    main()
