"""Agent populations (structure of arrays) and their thin Mesa views."""

from sim.agents.offender import Offender, Offenders
from sim.agents.officer import Officer, Officers
from sim.agents.resident import Resident, Residents

__all__ = ["Offender", "Offenders", "Officer", "Officers", "Resident", "Residents"]
