"""zns-sync: sync Zuora billing into NetSuite with the connector's Integration Status model."""

__version__ = "0.1.0"
