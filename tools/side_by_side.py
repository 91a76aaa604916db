"""Run two shell commands at once, each line of their output labelled, and fail if either fails.

    python tools/side_by_side.py LABEL "COMMAND" LABEL "COMMAND"

`make test-all` runs the two stacks' checks this way: a chapter's kernel, the
autograder's notebooks and the book build run mostly on one core, so two
chains of them fill a two-core machine where one leaves a core idle. Each
line is printed as it comes, prefixed with its label and the minutes since
the start (``[3.11 12:34] ...``); at the end one line per command says how it
ended and at what minute, and the last lines of a failed one are repeated,
so that the end of the log shows why. Both commands run to their end even
when one fails: what the other finds is worth knowing in the same run.
"""
import subprocess
import sys
import threading
import time
from collections import deque

TAIL = 40  # lines of a failed command repeated at the end


def _stamp(started):
    seconds = int(time.monotonic() - started)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    jobs = list(zip(argv[0::2], argv[1::2]))
    started = time.monotonic()
    lock = threading.Lock()
    tails, ended = {}, {}

    def follow(label, process):
        tail = tails[label] = deque(maxlen=TAIL)
        for line in process.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            with lock:
                print(f"[{label} {_stamp(started)}] {line}", flush=True)
        ended[label] = (process.wait(), _stamp(started))

    running = []
    for label, command in jobs:
        process = subprocess.Popen(["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, errors="replace", bufsize=1)
        reader = threading.Thread(target=follow, args=(label, process))
        reader.start()
        running.append((label, process, reader))
    for _, _, reader in running:
        reader.join()
    failed = [label for label, _ in jobs if ended[label][0] != 0]
    for label in failed:
        print(f"\n--- the last {len(tails[label])} lines of {label} ---")
        print("\n".join(tails[label]))
    for label, _ in jobs:
        code, at = ended[label]
        print(f"side_by_side: {label} {'passed' if code == 0 else f'failed (exit {code})'}, ended at {at} "
              f"(minutes:seconds)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
