"""Prints what the last Pusher did in a model base path since a time: the kind scripts' push result.

Reads the record the Pusher writes into the base path (``LAST_PUSH_RECORD`` in
components/pusher/executor.py, name passed by common.sh) and prints one line:
``pushed <version>``, ``already-pushed <version>`` or, when no Pusher pushed since ``since``
(a dsl.If gate skipped it, or it refused an unblessed model), ``skipped``. A record that is not what the Pusher writes
fails with exit status 2 and says why. Standard library only.
"""

import argparse
import json
import os
import sys

OUTCOMES = ("pushed", "already-pushed")


def outcome(record_path: str, since: float) -> str:
    if not os.path.exists(record_path):
        return "skipped"
    with open(record_path, encoding="utf-8") as f:
        record = json.load(f)
    if not isinstance(record, dict) or record.get("outcome") not in OUTCOMES \
            or not isinstance(record.get("at"), (int, float)):
        raise ValueError(f"expected a JSON object with 'outcome' (one of {', '.join(OUTCOMES)}) and 'at' "
                         f"(seconds since the epoch); got {record!r}")
    if record["at"] < since:
        return "skipped"
    if not isinstance(record.get("version"), int):
        raise ValueError(f"expected an integer 'version' with outcome {record['outcome']!r}; got {record!r}")
    return f"{record['outcome']} {record['version']}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", help="the Pusher's last-push record in the model base path")
    parser.add_argument("since", type=float, help="when the run was submitted (seconds since the epoch)")
    args = parser.parse_args(argv)
    try:
        print(outcome(args.record, args.since))
    except (OSError, ValueError) as e:
        print(f"push_outcome: {args.record}: unreadable push record: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
