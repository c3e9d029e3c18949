#!/usr/bin/env python3
"""Drive an interactive program through a pseudo-terminal, as a person would.

    pty-drive.py [--delay S] KEYS... -- COMMAND [ARGS...]

Each KEYS argument is typed after the previous one has had DELAY seconds to
be answered; "\\t" is Tab, "\\n" Enter, "\\x04" Ctrl-D (Python escapes).
Everything the program printed to the terminal goes to stdout; the exit
status is the program's, or 124 when it had not finished 10 s after the
last key (it is killed).  Used by the shell tests to check completion.
"""
import os
import pty
import select
import sys
import time


def read_for(fd, seconds, out):
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return True
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        out.extend(data)


def main():
    args = sys.argv[1:]
    delay = 0.5
    if args[:1] == ["--delay"]:
        delay = float(args[1])
        args = args[2:]
    if "--" not in args:
        sys.exit("usage: pty-drive.py [--delay S] KEYS... -- COMMAND [ARGS...]")
    split = args.index("--")
    keys = [k.encode().decode("unicode_escape").encode("latin-1") for k in args[:split]]
    command = args[split + 1:]
    env = dict(os.environ, TERM="dumb", INPUTRC="/dev/null")
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(command[0], command, env)
    out = bytearray()
    alive = read_for(fd, delay * 2, out)
    for key in keys:
        if not alive:
            break
        os.write(fd, key)
        alive = read_for(fd, delay, out)
    # After the last key the program has 10 s to finish; then it is killed.
    deadline = time.monotonic() + 10
    while alive and time.monotonic() < deadline:
        alive = read_for(fd, 0.2, out)
    if alive:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.exit(124 if alive else os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
