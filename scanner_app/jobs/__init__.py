"""RQ in one place: the executor that enqueues a scan's batches (``executor``), the job
functions, enqueued by reference (``tasks``), the forking worker (``worker``), how long a
dead worker's batch waits and what that means for the lock (``recovery``), and flask-rq's
wiring with the cron schedule (``extension``).

It sits between the composition root (``services``) and the scan layer: the jobs reach the
app's parts through ``app.extensions`` as the protocol ``scan.parts.ScanParts``.
"""
