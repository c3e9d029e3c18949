#!/usr/bin/env python3
"""timeit: time commands side by side, in interleaved rounds, for bench/run.sh.

Usage: timeit.py [--runs N] [--warmup N] [--stdout FILE] --out OUT.json NAME CMD [NAME CMD]...

CMD is one string, split like a shell would (printf %q output is fine). Each
round runs every command once, in an order rotated from round to round, so a
slow spell of a shared machine lands on all of them instead of on whichever
happened to be timed then. A run is timed from spawn to exit (wall clock,
perf_counter), and its CPU time (user + system, children included) comes
from wait4's rusage.

Standard output goes to /dev/null, or to FILE with --stdout (overwritten by
each run, to check what the last run printed). Exit statuses 0 and 1 are
accepted (iommuctl check says 1 for "not viable"); anything else stops the
timing with the command's stderr and exit status 2.

OUT.json: {"NAME": {"wall": [s...], "user": [s...], "sys": [s...]}, ...}
"""

import json
import os
import shlex
import sys
import tempfile
import time


def run_once(argv, stdout_path):
    out = os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = tempfile.TemporaryFile()
    try:
        actions = [(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
        start = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            err.seek(0)
            sys.stderr.write(err.read().decode(errors='replace')[-2000:])
            sys.exit('timeit: %s: exit status %d' % (shlex.join(argv), code))
        return wall, usage.ru_utime, usage.ru_stime
    finally:
        os.close(out)
        err.close()


def main():
    args = sys.argv[1:]
    runs, warmup, stdout_path, out_path = 10, 0, os.devnull, None
    while args and args[0].startswith('--'):
        opt, val = args[0], args[1]
        args = args[2:]
        if opt == '--runs':
            runs = int(val)
        elif opt == '--warmup':
            warmup = int(val)
        elif opt == '--stdout':
            stdout_path = val
        elif opt == '--out':
            out_path = val
        else:
            sys.exit('timeit: unknown option ' + opt)
    if not out_path or not args or len(args) % 2:
        sys.exit(__doc__.split('\n\n')[1])
    cmds = [(args[i], shlex.split(args[i + 1])) for i in range(0, len(args), 2)]
    results = {name: {'wall': [], 'user': [], 'sys': []} for name, _ in cmds}
    for _ in range(warmup):
        for _, argv in cmds:
            run_once(argv, stdout_path)
    for r in range(runs):
        k = r % len(cmds)
        for name, argv in cmds[k:] + cmds[:k]:
            wall, user, system = run_once(argv, stdout_path)
            results[name]['wall'].append(wall)
            results[name]['user'].append(user)
            results[name]['sys'].append(system)
    with open(out_path, 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    main()
