"""Users served (clause 4.4): which consents fit the plan's caps on end users and debtors. The
limit step itself lives in `termgate.gateway.traffic`."""
