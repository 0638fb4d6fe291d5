"""The permission sweep's declarations for looking back (回顧) and export/backup: every
signed-in user reaches their own reports and backup; the pages take no row ids."""

from __future__ import annotations

from sweep import LOGIN, expect

expect("book.reports", anonymous=LOGIN, user=200)
expect("book.reports_year", anonymous=LOGIN, user=200)
expect("book.reports_review", anonymous=LOGIN, user=200)
expect("book.export_index", anonymous=LOGIN, user=200)
expect("book.export_csv", anonymous=LOGIN, user=200)
expect("book.export_xlsx", anonymous=LOGIN, user=200)
expect("book.export_backup", anonymous=LOGIN, user=200)
# an empty form (no file) is shown again with the reason
expect("book.export_restore", "POST", anonymous=LOGIN, user=400)
