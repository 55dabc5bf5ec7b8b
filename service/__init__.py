"""tipscan: check policy documents against the OECD Guiding Principles on
Combatting Corruption related to Trafficking in Persons."""

__version__ = "0.1.0"
