"""Print the schema as SDL, or check that a checked-in copy is current.

python -m app.graphql.sdl > schema.graphql
python -m app.graphql.sdl --check schema.graphql
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.graphql.root import schema


def sdl() -> str:
    return schema.as_str() + "\n"


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--check":
        if Path(argv[1]).read_text() != sdl():
            print(f"{argv[1]} is stale: run `make schema`", file=sys.stderr)
            return 1
        print(f"{argv[1]} is current")
        return 0
    sys.stdout.write(sdl())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
