"""The client the gateway and the control plane use to reach the upstream API."""
