// DicomKit module.
