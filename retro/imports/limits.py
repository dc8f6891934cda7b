"""The caps an import keeps, so that no file, row or value is too big to read, store or show.

Each cap has a message a CSR can act on; the README repeats the file size.
"""

# An upload is read into the web server's temporary files before anything else: bigger files go
# through the import command, which streams them.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MAX_UPLOAD_LABEL = "100 MB"

# The standard columns, the membership number and the extra attributes leave room under this.
MAX_COLUMNS = 50
MAX_ATTRIBUTES = 20
# Attribute names are what a key definition names (RetroClaimKeyField.attribute_name, a slug of 40).
MAX_ATTRIBUTE_NAME = 40
MAX_ATTRIBUTE_VALUE = 255
# What an error report keeps of one original value: enough to recognise it, never a megabyte.
MAX_REPORTED_VALUE = 300


def upload_too_large_message():
    return f"The file is larger than {MAX_UPLOAD_LABEL}: split it, or use the import command instead."


def too_many_columns_message(count):
    return f"The file has {count} columns; an import reads at most {MAX_COLUMNS}."
