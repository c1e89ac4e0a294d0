"""Writers of everything a run hands over: operator files, Entra lists, decisions, report."""
