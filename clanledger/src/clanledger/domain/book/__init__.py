"""The personal book's rules, pure: minor-unit money, balanced transactions, recurring dates,
budgets and reports. No Flask or SQLAlchemy here."""
