"""The data plane: one request passes identify → admit → authorize → limit → forward → observe."""
