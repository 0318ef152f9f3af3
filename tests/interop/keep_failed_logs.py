#!/usr/bin/env python3
"""Runs a test that writes its logs to DIR, and keeps the logs of a failed run.

    keep_failed_logs.py DIR -- COMMAND [ARGS...]

The tests with external peers (tests/interop/, the softphone's baresip and SIP pair tests) empty their log
directory when they start, so a second run (CI's `ctest --repeat until-pass:2`) would erase what the failed
first run wrote. Here a failed run's DIR is renamed DIR.failed-<n> (n = 1, 2, ...) and its path printed
(ctest --output-on-failure shows it):
  - when COMMAND exits with neither 0 nor 77 (ctest's "skipped" of these tests), right after it exits;
  - when the previous run was killed before it could finish (ctest's timeout kills this process too): DIR
    then has no DIR/.passed, written after a run that passed or was skipped, and is renamed when the next
    run starts.
Exits with COMMAND's exit status. SIGTERM and SIGINT are passed on to COMMAND.
"""
import os
import signal
import subprocess
import sys

MARK = ".passed"


def keep(directory, why):
    """Renames `directory` to the first free `directory.failed-<n>` and says so on stdout."""
    n = 1
    while os.path.exists(f"{directory}.failed-{n}"):
        n += 1
    kept = f"{directory}.failed-{n}"
    os.rename(directory, kept)
    print(f"keep_failed_logs: {why}; its logs are kept in {kept}", flush=True)


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__)
    directory = os.path.abspath(sys.argv[1].rstrip("/"))
    command = sys.argv[3:]
    if os.path.isdir(directory) and not os.path.exists(os.path.join(directory, MARK)):
        keep(directory, "the previous run did not finish (killed: a timeout?)")
    proc = subprocess.Popen(command)
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda sig, _frame: proc.send_signal(sig))
    rc = proc.wait()
    if rc in (0, 77):
        if os.path.isdir(directory):
            open(os.path.join(directory, MARK), "w").close()
    elif os.path.isdir(directory):
        keep(directory, f"the test failed (exit status {rc})")
    # A signal's death is passed on as the shell does it (ctest reports the test as failed either way).
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
