"""The ServerTrack supervisor and developer commands, as an importable package.

    defaults     the appliance's defaults (common/defaults.ini and the supervisor's own)
    log          the supervisor's log line (UTC timestamp, one write per line)
    programs     where the workers and shmtool are: a build directory or an install
    supervise    start, restart with backoff and stop the worker processes
    runtime      `run` and `up`: segment, options, worker command lines, banner
    segment      the segment prepared before any worker starts (shmtool only)
    checkpoint   the segment dumped to the data directory while it runs, rotated
    ports        which appliance's workers hold a port (the port claims)
    devtools     `deps`, `build`, `test`: what a developer runs from a checkout
    main         the command line; `./servertrack` (a checkout) and
                 `<prefix>/bin/servertrack` (an install) only call main.main()

Python standard library only. Runs as one single-threaded process (supervise.py
says why it must stay so).
"""
