/*
 * One subscriber's RTP copy built, SRTP-protected and sent in a single call (server/sfu/srtp_send.py).
 *
 * The packet path's per-subscriber step in Python was three calls and three allocations: the
 * header joined to the extension block and the payload (packets.rtp_bytes), pylibsrtp's
 * Session.protect (a cffi call behind a copy into and out of its buffer), and socket.sendto (an
 * address tuple parsed on every call). Here the datagram is assembled in one buffer, protected in
 * place by the very libsrtp context aiortc's transport uses (its address and the address of
 * libsrtp's srtp_protect, both read from pylibsrtp by srtp_send.py), and written to the socket
 * with an address parsed once. Nothing here owns crypto state: the context stays pylibsrtp's,
 * kept alive by the reference this object holds on its Session, so sequence-number and
 * rollover bookkeeping are shared with every other packet aiortc protects on that transport.
 *
 * Results are counted by the caller: send() returns SENT, DROPPED (the socket's buffer was full:
 * the packet path drops rather than queues), FAILED (the kernel refused otherwise, or the socket
 * is closed) or PROTECT_FAILED (libsrtp refused, or the packet is too long to protect).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* libsrtp 2's srtp_protect(srtp_t ctx, void *rtp_hdr, int *len_ptr), as pylibsrtp declares it. */
typedef int (*srtp_protect_fn)(void *ctx, void *rtp, int *length);

#define DATAGRAM_MAX 1500   /* pylibsrtp's buffer: what aiortc could protect, no more */
#define TRAILER_MAX (16 + 128) /* SRTP_MAX_TRAILER_LEN: the tag and MKI libsrtp may append */
#define SRTCP_INDEX_SIZE 4     /* SRTCP also appends its E flag and index */
#define HEADER_SIZE 12
#define RTP_VERSION_2 0x80
#define EXTENSION_BIT 0x10
#define HALF_SEQ 0x8000
#define RUN_WINDOW (1 << 13) /* packet_consumer.RUN_WINDOW */

enum { SENT = 0, DROPPED = 1, FAILED = 2, PROTECT_FAILED = 3 };

typedef struct {
    PyObject_HEAD
    PyObject *session;      /* the pylibsrtp.Session owning the context */
    PyObject *fileno;       /* the socket's bound fileno(): -1 once the socket is closed */
    srtp_protect_fn protect;
    srtp_protect_fn protect_rtcp; /* srtp_protect_rtcp, same signature; NULL: send_rtcp refuses */
    void *context;
    struct sockaddr_storage address;
    socklen_t address_length;
    _Alignas(16) unsigned char buffer[DATAGRAM_MAX]; /* libsrtp reads the header as 32-bit words */
} Sender;

static int
parse_address(Sender *self, const char *host, unsigned int port)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)&self->address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&self->address;
    memset(&self->address, 0, sizeof(self->address));
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        self->address_length = sizeof(*v4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        self->address_length = sizeof(*v6);
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "not a numeric IP address: %s", host);
    return -1;
}

static int
Sender_init(Sender *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"session", "protect", "context", "sock", "host", "port", "protect_rtcp", NULL};
    PyObject *session, *sock;
    unsigned long long protect, context, protect_rtcp = 0;
    const char *host;
    unsigned int port;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OKKOsI|K:Sender", keywords, &session, &protect,
                                     &context, &sock, &host, &port, &protect_rtcp))
        return -1;
    if (!protect || !context) {
        PyErr_SetString(PyExc_ValueError, "null srtp_protect or context");
        return -1;
    }
    if (port > 0xFFFF) {
        PyErr_SetString(PyExc_ValueError, "port out of range");
        return -1;
    }
    if (parse_address(self, host, port) < 0)
        return -1;
    PyObject *fileno = PyObject_GetAttrString(sock, "fileno");
    if (fileno == NULL)
        return -1;
    Py_XSETREF(self->fileno, fileno);
    Py_INCREF(session);
    Py_XSETREF(self->session, session);
    self->protect = (srtp_protect_fn)(uintptr_t)protect;
    self->protect_rtcp = (srtp_protect_fn)(uintptr_t)protect_rtcp;
    self->context = (void *)(uintptr_t)context;
    return 0;
}

static int
read_u32(PyObject *value, uint32_t *out)
{
    unsigned long number = PyLong_AsUnsignedLong(value);
    if (number == (unsigned long)-1 && PyErr_Occurred())
        return -1;
    if (number > 0xFFFFFFFFUL) {
        PyErr_SetString(PyExc_OverflowError, "RTP field out of range");
        return -1;
    }
    *out = (uint32_t)number;
    return 0;
}

static void
put_u16(unsigned char *at, uint32_t value)
{
    at[0] = (unsigned char)(value >> 8);
    at[1] = (unsigned char)value;
}

static void
put_u32(unsigned char *at, uint32_t value)
{
    at[0] = (unsigned char)(value >> 24);
    at[1] = (unsigned char)(value >> 16);
    at[2] = (unsigned char)(value >> 8);
    at[3] = (unsigned char)value;
}

static int deliver(Sender *self, int length);

/* Build, protect and send one packet; SENT, DROPPED, FAILED, PROTECT_FAILED, or -1 with a Python error. */
static int
transmit(Sender *self, uint32_t first, uint32_t second, uint32_t sequence_number, uint32_t timestamp,
         uint32_t ssrc, PyObject *block, PyObject *payload)
{
    Py_ssize_t block_length = PyBytes_GET_SIZE(block);
    Py_ssize_t payload_length = PyBytes_GET_SIZE(payload);
    if (HEADER_SIZE + block_length + payload_length > DATAGRAM_MAX - TRAILER_MAX)
        return PROTECT_FAILED;

    unsigned char *buffer = self->buffer;
    buffer[0] = (unsigned char)first;
    buffer[1] = (unsigned char)second;
    put_u16(buffer + 2, sequence_number);
    put_u32(buffer + 4, timestamp);
    put_u32(buffer + 8, ssrc);
    memcpy(buffer + HEADER_SIZE, PyBytes_AS_STRING(block), (size_t)block_length);
    memcpy(buffer + HEADER_SIZE + block_length, PyBytes_AS_STRING(payload), (size_t)payload_length);
    int length = (int)(HEADER_SIZE + block_length + payload_length);
    if (self->protect(self->context, buffer, &length) != 0)
        return PROTECT_FAILED;
    return deliver(self, length);
}

/* Send the protected datagram at the start of the buffer; SENT, DROPPED, FAILED, or -1 with a Python error. */
static int
deliver(Sender *self, int length)
{
    unsigned char *buffer = self->buffer;
    PyObject *fd_object = PyObject_CallNoArgs(self->fileno);
    if (fd_object == NULL)
        return -1;
    long fd = PyLong_AsLong(fd_object);
    Py_DECREF(fd_object);
    if (fd == -1 && PyErr_Occurred())
        return -1;
    if (fd < 0)
        return FAILED;
    ssize_t sent = sendto((int)fd, buffer, (size_t)length, MSG_DONTWAIT,
                          (struct sockaddr *)&self->address, self->address_length);
    if (sent < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return DROPPED;
        return FAILED;
    }
    return SENT;
}

/* send(first_byte, second_byte, sequence_number, timestamp, ssrc, extension_block, payload) */
static PyObject *
Sender_send(Sender *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "send() takes 7 arguments");
        return NULL;
    }
    uint32_t first, second, sequence_number, timestamp, ssrc;
    if (read_u32(args[0], &first) < 0 || read_u32(args[1], &second) < 0 ||
        read_u32(args[2], &sequence_number) < 0 || read_u32(args[3], &timestamp) < 0 ||
        read_u32(args[4], &ssrc) < 0)
        return NULL;
    if (first > 0xFF || second > 0xFF || sequence_number > 0xFFFF) {
        PyErr_SetString(PyExc_OverflowError, "RTP field out of range");
        return NULL;
    }
    if (!PyBytes_Check(args[5]) || !PyBytes_Check(args[6])) {
        PyErr_SetString(PyExc_TypeError, "extension block and payload must be bytes");
        return NULL;
    }
    int result = transmit(self, first, second, sequence_number, timestamp, ssrc, args[5], args[6]);
    return result < 0 ? NULL : PyLong_FromLong(result);
}

/* send_rtcp(packet): protect an RTCP compound packet as SRTCP and send it */
static PyObject *
Sender_send_rtcp(Sender *self, PyObject *packet)
{
    if (!PyBytes_Check(packet)) {
        PyErr_SetString(PyExc_TypeError, "send_rtcp(packet: bytes)");
        return NULL;
    }
    if (self->protect_rtcp == NULL) {
        PyErr_SetString(PyExc_ValueError, "this sender was made without srtp_protect_rtcp");
        return NULL;
    }
    Py_ssize_t length = PyBytes_GET_SIZE(packet);
    if (length > DATAGRAM_MAX - TRAILER_MAX - SRTCP_INDEX_SIZE)
        return PyLong_FromLong(PROTECT_FAILED);
    memcpy(self->buffer, PyBytes_AS_STRING(packet), (size_t)length);
    int protected_length = (int)length;
    if (self->protect_rtcp(self->context, self->buffer, &protected_length) != 0)
        return PyLong_FromLong(PROTECT_FAILED);
    int result = deliver(self, protected_length);
    return result < 0 ? NULL : PyLong_FromLong(result);
}

static int
Sender_traverse(Sender *self, visitproc visit, void *arg)
{
    Py_VISIT(self->session);
    Py_VISIT(self->fileno);
    return 0;
}

static int
Sender_clear(Sender *self)
{
    Py_CLEAR(self->session);
    Py_CLEAR(self->fileno);
    return 0;
}

static void
Sender_dealloc(Sender *self)
{
    PyObject_GC_UnTrack(self);
    Sender_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Sender_methods[] = {
    {"send", (PyCFunction)(void (*)(void))Sender_send, METH_FASTCALL,
     "send(first_byte, second_byte, sequence_number, timestamp, ssrc, extension_block, payload) -> int\n"
     "Build, protect and send one RTP packet; SENT, DROPPED, FAILED or PROTECT_FAILED."},
    {"send_rtcp", (PyCFunction)Sender_send_rtcp, METH_O,
     "send_rtcp(packet) -> int\nProtect one RTCP compound packet and send it; the same results as send()."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SenderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "server.sfu._srtp_send.Sender",
    .tp_doc = "Sender(session, protect, context, sock, host, port, protect_rtcp=0): RTP and RTCP to one "
              "address, protected with a libsrtp context.",
    .tp_basicsize = sizeof(Sender),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Sender_init,
    .tp_dealloc = (destructor)Sender_dealloc,
    .tp_traverse = (traverseproc)Sender_traverse,
    .tp_clear = (inquiry)Sender_clear,
    .tp_methods = Sender_methods,
};

/*
 * The fan-out's common case in one call per packet (packet_consumer.py, rtp_forward.py).
 *
 * An OutState is one m-line's sending end (rtp_forward.RtpOut keeps its numbers here), a Lane one
 * consumer's run on it (packet_consumer.PacketConsumer keeps its run here). Both are plain state
 * that the Python code reads and writes as attributes; fan_out() does, for every lane in the
 * common case, what PacketConsumer.forward and RtpOut.send do in Python, on the same state: a
 * packet of the lane's layer, without temporal layers or picture renumbering, in a run already
 * started, on an m-line whose native sender still goes to the nominated pair of a connected DTLS
 * transport. Everything else (waiting for a keyframe, layer switches, VP8 rewriting, a relayed
 * pair, a closed transport) goes to the consumer's own forward(), which handles every case.
 */

typedef struct {
    PyObject_HEAD
    PyObject *sender;       /* the native Sender to the nominated pair, or None */
    PyObject *layout;       /* the m-line's ExtensionLayout, the key of a packet's block cache */
    PyObject *nominated;    /* aioice Connection._nominated: {component: pair} */
    PyObject *pair;         /* the pair sender sends to */
    PyObject *dtls;         /* the RTCDtlsTransport, whose _state must be ... */
    PyObject *connected;    /* ... this (aiortc's State.CONNECTED) */
    int payload_type;
    unsigned int ssrc;
    int next_seq;
    long long last_timestamp; /* -1: nothing sent yet */
    unsigned long long last_ntp;
    unsigned long long packets, octets, dropped, failed, protect_failed;
} OutState;

typedef struct {
    PyObject_HEAD
    OutState *out;
    char fast;              /* the consumer allows the common case (open, no picture renumbering) */
    char waiting;
    int layer;
    int run_start;
    int seq_offset;
    long long ts_offset;
    unsigned long long forwarded;
} Lane;

static PyTypeObject OutStateType;
static PyTypeObject LaneType;
static PyObject *ICE_COMPONENT_RTP, *s_state, *s_sequence_number, *s_timestamp, *s_marker, *s_payload,
    *s_ntp, *s_layer, *s_temporal, *s_blocks, *s_extension_block, *s_audio_level;

static int
OutState_init(OutState *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, ":OutState", keywords))
        return -1;
    PyObject **refs[] = {&self->sender, &self->layout, &self->nominated, &self->pair, &self->dtls, &self->connected};
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
        Py_XSETREF(*refs[i], Py_NewRef(Py_None));
    self->last_timestamp = -1;
    return 0;
}

static int
OutState_traverse(OutState *self, visitproc visit, void *arg)
{
    Py_VISIT(self->sender);
    Py_VISIT(self->layout);
    Py_VISIT(self->nominated);
    Py_VISIT(self->pair);
    Py_VISIT(self->dtls);
    Py_VISIT(self->connected);
    return 0;
}

static int
OutState_clear(OutState *self)
{
    Py_CLEAR(self->sender);
    Py_CLEAR(self->layout);
    Py_CLEAR(self->nominated);
    Py_CLEAR(self->pair);
    Py_CLEAR(self->dtls);
    Py_CLEAR(self->connected);
    return 0;
}

static void
OutState_dealloc(OutState *self)
{
    PyObject_GC_UnTrack(self);
    OutState_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef OutState_members[] = {
    {"sender", T_OBJECT, offsetof(OutState, sender), 0, NULL},
    {"layout", T_OBJECT, offsetof(OutState, layout), 0, NULL},
    {"nominated", T_OBJECT, offsetof(OutState, nominated), 0, NULL},
    {"pair", T_OBJECT, offsetof(OutState, pair), 0, NULL},
    {"dtls", T_OBJECT, offsetof(OutState, dtls), 0, NULL},
    {"connected", T_OBJECT, offsetof(OutState, connected), 0, NULL},
    {"payload_type", T_INT, offsetof(OutState, payload_type), 0, NULL},
    {"ssrc", T_UINT, offsetof(OutState, ssrc), 0, NULL},
    {"next_seq", T_INT, offsetof(OutState, next_seq), 0, NULL},
    {"last_timestamp", T_LONGLONG, offsetof(OutState, last_timestamp), 0, NULL},
    {"last_ntp", T_ULONGLONG, offsetof(OutState, last_ntp), 0, NULL},
    {"packets", T_ULONGLONG, offsetof(OutState, packets), 0, NULL},
    {"octets", T_ULONGLONG, offsetof(OutState, octets), 0, NULL},
    {"dropped", T_ULONGLONG, offsetof(OutState, dropped), 0, NULL},
    {"failed", T_ULONGLONG, offsetof(OutState, failed), 0, NULL},
    {"protect_failed", T_ULONGLONG, offsetof(OutState, protect_failed), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject OutStateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "server.sfu._srtp_send.OutState",
    .tp_doc = "OutState(): one m-line's sending end (see rtp_forward.OutState).",
    .tp_basicsize = sizeof(OutState),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)OutState_init,
    .tp_dealloc = (destructor)OutState_dealloc,
    .tp_traverse = (traverseproc)OutState_traverse,
    .tp_clear = (inquiry)OutState_clear,
    .tp_members = OutState_members,
};

static int
Lane_init(Lane *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"out", NULL};
    PyObject *out;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!:Lane", keywords, &OutStateType, &out))
        return -1;
    Py_XSETREF(self->out, (OutState *)Py_NewRef(out));
    self->waiting = 1;
    return 0;
}

static int
Lane_traverse(Lane *self, visitproc visit, void *arg)
{
    Py_VISIT(self->out);
    return 0;
}

static int
Lane_clear(Lane *self)
{
    Py_CLEAR(self->out);
    return 0;
}

static void
Lane_dealloc(Lane *self)
{
    PyObject_GC_UnTrack(self);
    Lane_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef Lane_members[] = {
    {"out", T_OBJECT, offsetof(Lane, out), READONLY, NULL},
    {"fast", T_BOOL, offsetof(Lane, fast), 0, NULL},
    {"waiting", T_BOOL, offsetof(Lane, waiting), 0, NULL},
    {"layer", T_INT, offsetof(Lane, layer), 0, NULL},
    {"run_start", T_INT, offsetof(Lane, run_start), 0, NULL},
    {"seq_offset", T_INT, offsetof(Lane, seq_offset), 0, NULL},
    {"ts_offset", T_LONGLONG, offsetof(Lane, ts_offset), 0, NULL},
    {"forwarded", T_ULONGLONG, offsetof(Lane, forwarded), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject LaneType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "server.sfu._srtp_send.Lane",
    .tp_doc = "Lane(out): one consumer's run on an m-line (see packet_consumer.Lane).",
    .tp_basicsize = sizeof(Lane),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Lane_init,
    .tp_dealloc = (destructor)Lane_dealloc,
    .tp_traverse = (traverseproc)Lane_traverse,
    .tp_clear = (inquiry)Lane_clear,
    .tp_members = Lane_members,
};

/* What fan_out reads of a ForwardedPacket, once for all lanes. */
typedef struct {
    PyObject *packet;
    uint32_t sequence_number, timestamp, marker;
    unsigned long long ntp;
    long layer;
    int has_temporal;
    PyObject *payload; /* borrowed from the packet's own references, held by `owned` */
    PyObject *blocks;
} PacketView;

static int
read_field_u32(PyObject *packet, PyObject *name, uint32_t *out)
{
    PyObject *value = PyObject_GetAttr(packet, name);
    if (value == NULL)
        return -1;
    int result = read_u32(value, out);
    Py_DECREF(value);
    return result;
}

#define BLOCK_ONE_BYTE_PROFILE 0xBEDE
#define BLOCK_TWO_BYTE_PROFILE 0x1000
#define BLOCK_MAX 1024 /* 4-byte header + three elements of at most 2 + 255 bytes, padded */

/* An extension id of an ExtensionLayout: 1..255, 0 for None; -1 (no error set) if it is neither. */
static int
layout_id(PyObject *value)
{
    if (value == Py_None)
        return 0;
    if (!PyLong_CheckExact(value))
        return -1;
    long id = PyLong_AsLong(value);
    if (id < 1 || id > 255) {
        PyErr_Clear();
        return -1;
    }
    return (int)id;
}

/* The header extension block of a copy for `layout` (ExtensionLayout: mid_id, mid, abs_send_time_id,
 * audio_level_id), byte for byte what ForwardedPacket._build_block makes with aiortc's
 * pack_header_extensions (RFC 8285: the one-byte form where every id is 1..14 and every value 1..16
 * bytes long, else the two-byte form; padded to 32 bits). NULL without an error set: a layout or
 * audio level out of the ordinary, which Python builds (and refuses as it does). */
static PyObject *
build_block(PyObject *layout, unsigned long long ntp, PyObject *audio_level)
{
    if (!PyTuple_Check(layout) || PyTuple_GET_SIZE(layout) != 4 || !PyBytes_Check(PyTuple_GET_ITEM(layout, 1)))
        return NULL;
    int ids[3];
    const unsigned char *values[3];
    Py_ssize_t lengths[3];
    unsigned char abs_send_time[3], level[1];
    int count = 0;
    int mid_id = layout_id(PyTuple_GET_ITEM(layout, 0));
    int abs_id = layout_id(PyTuple_GET_ITEM(layout, 2));
    int level_id = layout_id(PyTuple_GET_ITEM(layout, 3));
    if (mid_id < 0 || abs_id < 0 || level_id < 0)
        return NULL;
    if (mid_id) {
        PyObject *mid = PyTuple_GET_ITEM(layout, 1);
        ids[count] = mid_id;
        values[count] = (const unsigned char *)PyBytes_AS_STRING(mid);
        lengths[count++] = PyBytes_GET_SIZE(mid);
    }
    if (abs_id) {
        uint32_t value = (uint32_t)((ntp >> 14) & 0x00FFFFFF);
        abs_send_time[0] = (unsigned char)(value >> 16);
        abs_send_time[1] = (unsigned char)(value >> 8);
        abs_send_time[2] = (unsigned char)value;
        ids[count] = abs_id;
        values[count] = abs_send_time;
        lengths[count++] = 3;
    }
    if (level_id && audio_level != Py_None) {
        if (!PyTuple_CheckExact(audio_level) || PyTuple_GET_SIZE(audio_level) != 2 ||
            !PyBool_Check(PyTuple_GET_ITEM(audio_level, 0)) || !PyLong_CheckExact(PyTuple_GET_ITEM(audio_level, 1)))
            return NULL;
        long dbov = PyLong_AsLong(PyTuple_GET_ITEM(audio_level, 1));
        long byte = (PyTuple_GET_ITEM(audio_level, 0) == Py_True ? 0x80 : 0) | dbov;
        if (dbov < 0 || byte > 255) {
            PyErr_Clear();
            return NULL;
        }
        level[0] = (unsigned char)byte;
        ids[count] = level_id;
        values[count] = level;
        lengths[count++] = 1;
    }
    if (count == 0)
        return PyBytes_FromStringAndSize(NULL, 0);
    int one_byte = 1;
    for (int i = 0; i < count; i++) {
        if (lengths[i] > 255)
            return NULL;
        if (ids[i] > 14 || lengths[i] == 0 || lengths[i] > 16)
            one_byte = 0;
    }
    unsigned char block[BLOCK_MAX];
    size_t at = 4;
    for (int i = 0; i < count; i++) {
        if (one_byte) {
            block[at++] = (unsigned char)((ids[i] << 4) | (lengths[i] - 1));
        } else {
            block[at++] = (unsigned char)ids[i];
            block[at++] = (unsigned char)lengths[i];
        }
        memcpy(block + at, values[i], (size_t)lengths[i]);
        at += (size_t)lengths[i];
    }
    while (at % 4)
        block[at++] = 0;
    unsigned int profile = one_byte ? BLOCK_ONE_BYTE_PROFILE : BLOCK_TWO_BYTE_PROFILE;
    size_t words = (at - 4) / 4;
    block[0] = (unsigned char)(profile >> 8);
    block[1] = (unsigned char)profile;
    block[2] = (unsigned char)(words >> 8);
    block[3] = (unsigned char)words;
    return PyBytes_FromStringAndSize((const char *)block, (Py_ssize_t)at);
}

/* The packet's block for the m-line's layout: from its cache, else built (natively where
 * build_block can) and cached. New reference; NULL with an error set on failure. */
static PyObject *
packet_block(PacketView *packet, PyObject *layout)
{
    PyObject *block = PyDict_GetItemWithError(packet->blocks, layout);
    if (block != NULL)
        return Py_NewRef(block);
    if (PyErr_Occurred())
        return NULL;
    PyObject *audio_level = PyObject_GetAttr(packet->packet, s_audio_level);
    if (audio_level == NULL)
        return NULL;
    block = build_block(layout, packet->ntp, audio_level);
    Py_DECREF(audio_level);
    if (block == NULL) {
        if (PyErr_Occurred())
            return NULL;
        return PyObject_CallMethodOneArg(packet->packet, s_extension_block, layout);
    }
    if (PyDict_SetItem(packet->blocks, layout, block) < 0) {
        Py_DECREF(block);
        return NULL;
    }
    return block;
}

/* 1: sent (or counted as not sent) here; 0: the consumer's forward() must handle it; -1: error. */
static int
lane_forward(Lane *lane, PacketView *packet)
{
    if (!lane->fast || lane->waiting || packet->layer != lane->layer || packet->has_temporal)
        return 0;
    OutState *out = lane->out;
    /* every reference may be NULL: Python can delete the attributes */
    if (out->sender == NULL || out->nominated == NULL || out->dtls == NULL || out->layout == NULL ||
        !Py_IS_TYPE(out->sender, &SenderType) || !PyDict_CheckExact(out->nominated))
        return 0;
    PyObject *pair = PyDict_GetItemWithError(out->nominated, ICE_COMPONENT_RTP);
    if (pair == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (pair != out->pair)
        return 0;
    PyObject *state = PyObject_GetAttr(out->dtls, s_state);
    if (state == NULL)
        return -1;
    int connected = state == out->connected;
    Py_DECREF(state);
    if (!connected)
        return 0;

    uint32_t behind = (packet->sequence_number - (uint32_t)lane->run_start) & 0xFFFF;
    if (behind >= HALF_SEQ)
        return 1; /* a late packet from before this run */
    if (behind > RUN_WINDOW)
        lane->run_start = (int)((packet->sequence_number - RUN_WINDOW) & 0xFFFF);
    uint32_t sequence_number = (packet->sequence_number + (uint32_t)lane->seq_offset) & 0xFFFF;
    uint32_t timestamp = (uint32_t)(((unsigned long long)packet->timestamp
                                     + (unsigned long long)lane->ts_offset) & 0xFFFFFFFFULL);

    PyObject *block = packet_block(packet, out->layout);
    if (block == NULL)
        return -1;
    if (!PyBytes_Check(block)) {
        Py_DECREF(block);
        PyErr_SetString(PyExc_TypeError, "extension block must be bytes");
        return -1;
    }
    uint32_t first = PyBytes_GET_SIZE(block) ? (RTP_VERSION_2 | EXTENSION_BIT) : RTP_VERSION_2;
    uint32_t second = ((packet->marker & 1) << 7) | ((uint32_t)out->payload_type & 0x7F);
    int result = transmit((Sender *)out->sender, first, second, sequence_number, timestamp, out->ssrc, block,
                          packet->payload);
    Py_DECREF(block);
    if (result < 0)
        return -1;
    lane->forwarded++;
    if (result == SENT) {
        if (((sequence_number - (uint32_t)out->next_seq) & 0xFFFF) < HALF_SEQ) {
            out->next_seq = (int)((sequence_number + 1) & 0xFFFF);
            out->last_timestamp = timestamp;
            out->last_ntp = packet->ntp;
        }
        out->packets++;
        out->octets += (unsigned long long)PyBytes_GET_SIZE(packet->payload);
    } else if (result == DROPPED) {
        out->dropped++;
    } else if (result == PROTECT_FAILED) {
        out->protect_failed++;
    } else {
        out->failed++;
    }
    return 1;
}

static int
read_packet(PyObject *packet, PacketView *view, PyObject **owned)
{
    view->packet = packet;
    PyObject *ntp, *layer, *temporal;
    if (read_field_u32(packet, s_sequence_number, &view->sequence_number) < 0 ||
        read_field_u32(packet, s_timestamp, &view->timestamp) < 0 ||
        read_field_u32(packet, s_marker, &view->marker) < 0)
        return -1;
    if ((ntp = PyObject_GetAttr(packet, s_ntp)) == NULL)
        return -1;
    view->ntp = PyLong_AsUnsignedLongLong(ntp);
    Py_DECREF(ntp);
    if (view->ntp == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    if ((layer = PyObject_GetAttr(packet, s_layer)) == NULL)
        return -1;
    view->layer = PyLong_AsLong(layer);
    Py_DECREF(layer);
    if (view->layer == -1 && PyErr_Occurred())
        return -1;
    if ((temporal = PyObject_GetAttr(packet, s_temporal)) == NULL)
        return -1;
    view->has_temporal = temporal != Py_None;
    Py_DECREF(temporal);
    if ((owned[0] = PyObject_GetAttr(packet, s_payload)) == NULL)
        return -1;
    if ((owned[1] = PyObject_GetAttr(packet, s_blocks)) == NULL)
        return -1;
    if (!PyBytes_Check(owned[0]) || !PyDict_Check(owned[1])) {
        PyErr_SetString(PyExc_TypeError, "a ForwardedPacket's payload must be bytes and its block cache a dict");
        return -1;
    }
    view->payload = owned[0];
    view->blocks = owned[1];
    return 0;
}

/* fan_out(entries, packet): entries is a list of (lane or None, forward) pairs, one per consumer. */
static PyObject *
fan_out(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "fan_out(entries: list, packet)");
        return NULL;
    }
    PyObject *entries = args[0], *packet = args[1];
    PyObject *owned[2] = {NULL, NULL};
    PacketView view;
    int have_view = 0;
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(entries); i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 2) {
            PyErr_SetString(PyExc_TypeError, "fan_out: each entry is a (lane, forward) tuple");
            goto done;
        }
        PyObject *lane = PyTuple_GET_ITEM(entry, 0);
        if (Py_IS_TYPE(lane, &LaneType)) {
            if (!have_view) {
                if (read_packet(packet, &view, owned) < 0)
                    goto done;
                have_view = 1;
            }
            int handled = lane_forward((Lane *)lane, &view);
            if (handled < 0)
                goto done;
            if (handled)
                continue;
        }
        PyObject *forwarded = PyObject_CallOneArg(PyTuple_GET_ITEM(entry, 1), packet);
        if (forwarded == NULL)
            goto done;
        Py_DECREF(forwarded);
    }
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(owned[0]);
    Py_XDECREF(owned[1]);
    return result;
}

/* extension_block(layout, ntp, audio_level): build_block for Python (tests compare it with Python's). */
static PyObject *
extension_block(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "extension_block(layout, ntp, audio_level)");
        return NULL;
    }
    unsigned long long ntp = PyLong_AsUnsignedLongLong(args[1]);
    if (ntp == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    PyObject *block = build_block(args[0], ntp, args[2]);
    if (block == NULL && !PyErr_Occurred())
        Py_RETURN_NONE;
    return block;
}

static PyMethodDef module_methods[] = {
    {"extension_block", (PyCFunction)(void (*)(void))extension_block, METH_FASTCALL,
     "extension_block(layout, ntp, audio_level) -> bytes, or None where Python builds it."},
    {"fan_out", (PyCFunction)(void (*)(void))fan_out, METH_FASTCALL,
     "fan_out(entries, packet): each (lane, forward) entry's copy of packet, the common case here."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "server.sfu._srtp_send",
    .m_doc = "RTP built, SRTP-protected and sent in one call (see server/sfu/srtp_send.py).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__srtp_send(void)
{
    if (PyType_Ready(&SenderType) < 0 || PyType_Ready(&OutStateType) < 0 || PyType_Ready(&LaneType) < 0)
        return NULL;
    struct { PyObject **slot; const char *name; } names[] = {
        {&s_state, "_state"}, {&s_sequence_number, "sequence_number"}, {&s_timestamp, "timestamp"},
        {&s_marker, "marker"}, {&s_payload, "payload"}, {&s_ntp, "ntp"}, {&s_layer, "layer"},
        {&s_temporal, "temporal"}, {&s_blocks, "_blocks"}, {&s_extension_block, "extension_block"},
        {&s_audio_level, "audio_level"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (*names[i].slot == NULL && (*names[i].slot = PyUnicode_InternFromString(names[i].name)) == NULL)
            return NULL;
    if (ICE_COMPONENT_RTP == NULL && (ICE_COMPONENT_RTP = PyLong_FromLong(1)) == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Sender", (PyObject *)&SenderType) < 0 ||
        PyModule_AddObjectRef(m, "OutState", (PyObject *)&OutStateType) < 0 ||
        PyModule_AddObjectRef(m, "Lane", (PyObject *)&LaneType) < 0 ||
        PyModule_AddIntConstant(m, "SENT", SENT) < 0 || PyModule_AddIntConstant(m, "DROPPED", DROPPED) < 0 ||
        PyModule_AddIntConstant(m, "FAILED", FAILED) < 0 ||
        PyModule_AddIntConstant(m, "PROTECT_FAILED", PROTECT_FAILED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
