"""The README's Python example runs as written, without warnings."""

import re
import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has a Python example"
    for code in blocks:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(compile(code, str(README), "exec"), {})
