"""Several nodes, one system: each `lianshen serve` process is a node with an id, a level and a public
address; with Redis configured, the nodes share socket.io rooms (python-socketio's Redis manager,
built in server.signaling.server) and a directory of who is where (``directory``), and a join that
reached the wrong node is answered with the node that serves it (``routing``, ``node``). A meeting
live on several nodes follows its log on each (``feed``), shares what is not on the record
(``room_share``) and sends a chair's act to the node serving its target (``control``). With one
node and no Redis, nothing here runs: ``node.attach`` adds nothing to the app.
"""
