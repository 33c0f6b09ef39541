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
#define HEADER_SIZE 12

enum { SENT = 0, DROPPED = 1, FAILED = 2, PROTECT_FAILED = 3 };

typedef struct {
    PyObject_HEAD
    PyObject *session;      /* the pylibsrtp.Session owning the context */
    PyObject *fileno;       /* the socket's bound fileno(): -1 once the socket is closed */
    srtp_protect_fn protect;
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
    static char *keywords[] = {"session", "protect", "context", "sock", "host", "port", NULL};
    PyObject *session, *sock;
    unsigned long long protect, context;
    const char *host;
    unsigned int port;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OKKOsI:Sender", keywords, &session, &protect,
                                     &context, &sock, &host, &port))
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
    Py_ssize_t block_length = PyBytes_GET_SIZE(args[5]);
    Py_ssize_t payload_length = PyBytes_GET_SIZE(args[6]);
    if (HEADER_SIZE + block_length + payload_length > DATAGRAM_MAX - TRAILER_MAX)
        return PyLong_FromLong(PROTECT_FAILED);

    unsigned char *buffer = self->buffer;
    buffer[0] = (unsigned char)first;
    buffer[1] = (unsigned char)second;
    put_u16(buffer + 2, sequence_number);
    put_u32(buffer + 4, timestamp);
    put_u32(buffer + 8, ssrc);
    memcpy(buffer + HEADER_SIZE, PyBytes_AS_STRING(args[5]), (size_t)block_length);
    memcpy(buffer + HEADER_SIZE + block_length, PyBytes_AS_STRING(args[6]), (size_t)payload_length);
    int length = (int)(HEADER_SIZE + block_length + payload_length);
    if (self->protect(self->context, buffer, &length) != 0)
        return PyLong_FromLong(PROTECT_FAILED);

    PyObject *fd_object = PyObject_CallNoArgs(self->fileno);
    if (fd_object == NULL)
        return NULL;
    long fd = PyLong_AsLong(fd_object);
    Py_DECREF(fd_object);
    if (fd == -1 && PyErr_Occurred())
        return NULL;
    if (fd < 0)
        return PyLong_FromLong(FAILED);
    ssize_t sent = sendto((int)fd, buffer, (size_t)length, MSG_DONTWAIT,
                          (struct sockaddr *)&self->address, self->address_length);
    if (sent < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return PyLong_FromLong(DROPPED);
        return PyLong_FromLong(FAILED);
    }
    return PyLong_FromLong(SENT);
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
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SenderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "server.sfu._srtp_send.Sender",
    .tp_doc = "Sender(session, protect, context, sock, host, port): RTP to one address, "
              "protected with a libsrtp context.",
    .tp_basicsize = sizeof(Sender),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Sender_init,
    .tp_dealloc = (destructor)Sender_dealloc,
    .tp_traverse = (traverseproc)Sender_traverse,
    .tp_clear = (inquiry)Sender_clear,
    .tp_methods = Sender_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "server.sfu._srtp_send",
    .m_doc = "RTP built, SRTP-protected and sent in one call (see server/sfu/srtp_send.py).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__srtp_send(void)
{
    if (PyType_Ready(&SenderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Sender", (PyObject *)&SenderType) < 0 ||
        PyModule_AddIntConstant(m, "SENT", SENT) < 0 || PyModule_AddIntConstant(m, "DROPPED", DROPPED) < 0 ||
        PyModule_AddIntConstant(m, "FAILED", FAILED) < 0 ||
        PyModule_AddIntConstant(m, "PROTECT_FAILED", PROTECT_FAILED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
