"""DVC stages: each module is a thin ``main()`` run as ``python -m stages.<name>``."""
