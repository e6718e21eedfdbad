"""The fault suite: real faults on throwaway servers, counted per status (`make faults`).

`_servers` starts and breaks the databases, `_app` runs the reference service as
a uvicorn process, `_load` sends the requests, `_faults` lists what is done,
`_run` runs one fault and `_table` counts and prints what was seen.
"""
