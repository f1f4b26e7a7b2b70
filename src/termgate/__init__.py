"""termgate: the API's Terms of Use, enforced at the gateway and carried out by workflows."""

__version__ = "0.1.0"
