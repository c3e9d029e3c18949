#!/usr/bin/env python3
"""The guest half of the binding benchmark (bench/vm/bind.sh boots
"bench-bind" with this as the payload).

Each side binds the same BENCH_BIND_DEVICES network devices to vfio-pci,
then gives them back to their original driver; both phases are timed from
spawn to exit (bench/timeit.py's run_once), in interleaved rounds, the order
rotated every round:

  iommuctl      iommuctl bind ADDR...  /  iommuctl unbind ADDR...
  raw           one bash loop writing driver_override, driver/unbind and
                drivers_probe per device / the same with the override
                cleared (no checks: the floor)
  driverctl     a bash loop of driverctl --nosave set-override ADDR vfio-pci
                / of driverctl --nosave unset-override ADDR
  dpdk-devbind  dpdk-devbind.py -b vfio-pci ADDR...  /  -b ORIGINAL ADDR...

After every phase each device is checked: on vfio-pci after the bind; on its
original driver with driver_override cleared (and iommuctl's journal empty)
after the restore.  A side that did not do its job makes the run exit 2:
its time would mean nothing.

driverctl takes about ten times as long as the others, so it runs in
BENCH_BIND_SLOW_ROUNDS of the BENCH_BIND_ROUNDS rounds, spread evenly.

Writes $RESULTS/bind.json:
  {"info": {...}, "sides": {NAME: {"bind": {"wall": [s...], "user": [...],
   "sys": [...]}, "restore": {...}}}, "skipped": {NAME: why}}
"""

import importlib.util
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PCI = '/sys/bus/pci'
LAB = {'0000:00:1d.0', '0000:00:1e.0'}  # the VM lab's 9p shares


def say(msg):
    print('bench-bind: ' + msg, file=sys.stderr, flush=True)


def broke(msg):
    say('ERROR: ' + msg)
    sys.exit(2)


spec = importlib.util.spec_from_file_location('bench_timeit', os.path.join(HERE, '..', 'timeit.py'))
timeit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(timeit)


def read(path):
    with open(path) as f:
        return f.read().strip()


def driver(dev):
    try:
        return os.path.basename(os.readlink('%s/devices/%s/driver' % (PCI, dev)))
    except FileNotFoundError:
        return None


def network_devices(n):
    devs = sorted(d for d in os.listdir(PCI + '/devices')
                  if d not in LAB and read('%s/devices/%s/class' % (PCI, d)).startswith('0x02'))
    if len(devs) < n:
        broke('%d network devices, %d wanted (is this the bench-bind topology?)' % (len(devs), n))
    return devs[:n]


def check(side, phase, devs, want):
    """want: {dev: (driver, driver_override)}; exit 2 on any difference."""
    wrong = []
    for d in devs:
        drv, override = want[d]
        got = driver(d)
        got_override = read('%s/devices/%s/driver_override' % (PCI, d))
        if got != drv or (override is not None and got_override != override):
            wrong.append('%s on %s (override %s), not %s' % (d, got, got_override, drv))
    if side == 'iommuctl' and phase == 'restore':
        left = os.listdir('/run/iommuctl/devices') if os.path.isdir('/run/iommuctl/devices') else []
        if left:
            wrong.append('journal entries left: ' + ' '.join(left))
    if wrong:
        broke('%s %s did not do its job (%d of %d wrong): %s'
              % (side, phase, len(wrong), len(devs), '; '.join(wrong[:4])))


def main():
    n = int(os.environ.get('BENCH_BIND_DEVICES', '32'))
    rounds = int(os.environ.get('BENCH_BIND_ROUNDS', '8'))
    slow_rounds = min(rounds, int(os.environ.get('BENCH_BIND_SLOW_ROUNDS', '4')))
    iommuctl = os.environ.get('BENCH_IOMMUCTL') or os.environ['IOMMUCTL']
    out = os.environ.get('RESULTS', '/results')

    devs = network_devices(n)
    original = {d: (driver(d), read('%s/devices/%s/driver_override' % (PCI, d))) for d in devs}
    drivers = sorted(set(drv for drv, _ in original.values()))
    if len(drivers) != 1 or drivers[0] is None:
        broke('the devices are on %s: one kernel driver wanted' % drivers)
    orig = drivers[0]
    bound = {d: ('vfio-pci', None) for d in devs}

    raw_bind = ('for d; do p=/sys/bus/pci/devices/$d; echo vfio-pci >$p/driver_override; '
                'echo $d >$p/driver/unbind; echo $d >/sys/bus/pci/drivers_probe; done')
    raw_back = ('for d; do p=/sys/bus/pci/devices/$d; echo >$p/driver_override; '
                'echo $d >$p/driver/unbind; echo $d >/sys/bus/pci/drivers_probe; done')
    sides = {
        'iommuctl': ([iommuctl, 'bind'] + devs, [iommuctl, 'unbind'] + devs),
        'raw': (['bash', '-c', raw_bind, '-'] + devs, ['bash', '-c', raw_back, '-'] + devs),
    }
    skipped = {}
    driverctl = shutil.which('driverctl')
    if not slow_rounds:
        skipped['driverctl'] = 'BENCH_BIND_SLOW_ROUNDS=0'
    elif driverctl:
        sides['driverctl'] = (
            ['bash', '-c', 'for d; do "$0" --nosave set-override "$d" vfio-pci; done', driverctl] + devs,
            ['bash', '-c', 'for d; do "$0" --nosave unset-override "$d"; done', driverctl] + devs)
    else:
        skipped['driverctl'] = 'not installed'
    devbind = shutil.which('dpdk-devbind.py') or shutil.which('dpdk-devbind')
    if devbind:
        sides['dpdk-devbind'] = ([devbind, '-b', 'vfio-pci'] + devs, [devbind, '-b', orig] + devs)
    else:
        skipped['dpdk-devbind'] = 'not installed'

    res = {name: {phase: {'wall': [], 'user': [], 'sys': []} for phase in ('bind', 'restore')}
           for name in sides}

    def cycle(name, record):
        for phase, argv, want in (('bind', sides[name][0], bound), ('restore', sides[name][1], original)):
            try:
                wall, user, system = timeit.run_once(argv, os.devnull)
            except SystemExit as e:  # run_once's verdict on an exit status other than 0 or 1
                broke('%s %s: %s' % (name, phase, e))
            check(name, phase, devs, want)
            if record:
                r = res[name][phase]
                r['wall'].append(wall)
                r['user'].append(user)
                r['sys'].append(system)

    say('%d devices on %s (%s .. %s); sides: %s; %d rounds, driverctl in %d'
        % (n, orig, devs[0], devs[-1], ' '.join(sides), rounds, slow_rounds))
    t0 = time.monotonic()
    for name in sides:  # one warm-up cycle each: page cache, python's modules
        cycle(name, False)
    say('warm-up done in %.0f s' % (time.monotonic() - t0))
    fast = [name for name in sides if name != 'driverctl']
    slow_at = {(i * rounds) // slow_rounds for i in range(slow_rounds)}
    for r in range(rounds):
        t1 = time.monotonic()
        names = fast + (['driverctl'] if 'driverctl' in sides and r in slow_at else [])
        k = r % len(names)
        for name in names[k:] + names[:k]:
            cycle(name, True)
        say('round %d/%d: %s in %.0f s' % (r + 1, rounds, ' '.join(names[k:] + names[:k]), time.monotonic() - t1))

    info = {'devices': devs, 'original_driver': orig, 'rounds': rounds, 'slow_rounds': slow_rounds,
            'kernel': read('/proc/sys/kernel/osrelease'), 'guest_seconds': time.monotonic() - t0}
    with open(os.path.join(out, 'bind.json'), 'w') as f:
        json.dump({'info': info, 'sides': res, 'skipped': skipped}, f)


if __name__ == '__main__':
    main()
