"""appconnect: build RingCentral App Connect connector servers in Python."""

__version__ = "0.1.0"
