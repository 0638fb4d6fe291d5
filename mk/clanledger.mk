# Compiles the .po catalogues into .mo files; a no-op when they are up to date.
PO := $(wildcard src/clanledger/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

translations: $(MO)

%.mo: %.po
	$(dir $(PY))pybabel compile --use-fuzzy -i $< -o $@
