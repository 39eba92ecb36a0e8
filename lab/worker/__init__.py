"""Background work: the app's job manager (lab.worker.manager), the worker process that runs one job
at a time (lab.worker.process), and the registry of job kinds it can run (lab.worker.kinds)."""
