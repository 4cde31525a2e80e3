"""Media hirebot itself sends: recordings made by the team, converted for the candidate's app."""
