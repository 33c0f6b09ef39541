"""Build the SFU's native extensions in place: ``server/sfu/_srtp_send.c`` (``srtp_send.py``,
``fan_out.py``), ``server/sfu/_srtp_recv.c`` (``srtp_recv.py``) and ``server/sfu/_rtp_parse.c``
(``rtp_parse.py``).

Run by ``scripts/setup.sh`` after the venv is installed; setuptools skips the compile when the
built module is newer than its source. Without a C compiler or Python headers the build fails
loudly here, and the server still runs: ``srtp_send.py`` falls back to the pure-Python send.
"""

import os
import sys
from pathlib import Path

from setuptools import Distribution, Extension

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
         "-Wno-cast-function-type"]
EXTENSIONS = [
    Extension("server.sfu._srtp_send", ["server/sfu/_srtp_send.c"], extra_compile_args=FLAGS),
    Extension("server.sfu._srtp_recv", ["server/sfu/_srtp_recv.c"], extra_compile_args=FLAGS),
    Extension("server.sfu._rtp_parse", ["server/sfu/_rtp_parse.c"], extra_compile_args=FLAGS),
]


def main() -> int:
    distribution = Distribution({"name": "lianshen-native", "ext_modules": EXTENSIONS, "script_name": "setup.py"})
    command = distribution.get_command_obj("build_ext")
    command.inplace = True
    command.build_temp = str(ROOT / "build" / "native")
    command.ensure_finalized()
    outputs = {extension.name: Path(command.get_ext_fullpath(extension.name)) for extension in EXTENSIONS}
    before = {name: path.stat().st_mtime_ns if path.exists() else None for name, path in outputs.items()}
    distribution.run_command("build_ext")
    for name, path in outputs.items():
        done = "built" if before[name] != path.stat().st_mtime_ns else "up to date"
        print(f"native extension {name}: {done} ({path.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
