"""Policy plug-ins: mechanisms, evidence-direction tests and misconfiguration errors."""
