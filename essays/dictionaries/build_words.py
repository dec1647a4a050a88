"""Rebuild en_GB.words.gz and en_US.words.gz: every word the Hunspell dictionaries beside it accept.

Run on a Debian machine with `hunspell-tools` installed: `uv run python essays/dictionaries/build_words.py`
(about a minute). Hunspell's `unmunch` applies each entry's affixes to it; it also applies affixes
whose conditions the British file's rules exclude ("rubidiumation"), so each word is kept only when
spylls, a port of Hunspell's own lookup, accepts it. Words with a digit are dropped (the number rules
are compound-only, and ELS skips words with digits). The lists are sorted and gzipped without a
timestamp, so a rebuild from the same dictionaries gives the same bytes.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

from spylls.hunspell import Dictionary

HERE = Path(__file__).resolve().parent
NAMES = ("en_GB", "en_US")


def expanded_words(name: str) -> list[str]:
    """The sorted distinct words of one dictionary, affixes applied, with no digit in them."""
    unmunch = shutil.which("unmunch")
    if unmunch is None:
        sys.exit("unmunch not found: apt-get install hunspell-tools")
    result = subprocess.run(  # noqa: S603 - a fixed binary on the files beside this script
        [unmunch, str(HERE / f"{name}.dic"), str(HERE / f"{name}.aff")],
        capture_output=True,
        check=True,
    )
    lines = result.stdout.decode("utf-8").splitlines()
    # An unmunched line may keep its morphology after a tab or its flags after a slash.
    words = {line.split("\t")[0].split("/")[0].strip().lstrip("\ufeff") for line in lines}
    dictionary = Dictionary.from_files(str(HERE / name))
    wordlike = (word for word in words if word and not any(char.isdigit() for char in word))
    return sorted(word for word in wordlike if dictionary.lookup(word))


def main() -> None:
    """Write the two word lists next to this script."""
    for name in NAMES:
        text = "\n".join(expanded_words(name)) + "\n"
        (HERE / f"{name}.words.gz").write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


if __name__ == "__main__":
    main()
