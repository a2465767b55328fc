"""RECORD_DEFINES: POLLWAKE_RECORD=1 under --define=pollwake_record=1."""

RECORD_DEFINES = select({
    "//executor/record:enabled": ["POLLWAKE_RECORD=1"],
    "//conditions:default": [],
})
