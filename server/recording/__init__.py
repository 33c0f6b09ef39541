"""Recording in the server: the SFU-to-recorder bridge, the chair's controls, startup recovery.

The recording itself (files, manifest, repair, verification) is the ``recorder`` library; this
package adds what only the server knows: live meetings, who is who, the event log, the disk.
"""
