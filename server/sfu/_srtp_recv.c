/*
 * Incoming SRTP and SRTCP unprotected in one call each (server/sfu/srtp_recv.py).
 *
 * pylibsrtp's Session.unprotect checks its argument, allocates an int for the length, copies the
 * datagram into its buffer, calls libsrtp through cffi and slices the result out again: per packet
 * a publisher sends, that measured ~30 us of the server's thread CPU on a busy machine. Here the
 * datagram is copied once into an aligned buffer, unprotected in place by the transport's own
 * libsrtp context (its address and those of srtp_unprotect and srtp_unprotect_rtcp read from
 * pylibsrtp by srtp_binding.py), and returned as new bytes. Nothing here owns crypto state: the
 * context stays pylibsrtp's (its replay windows and rollover counters too), kept alive by the
 * reference this object holds on its Session.
 *
 * rtp() and rtcp() return the plain packet, or None when libsrtp refuses it (replayed, forged,
 * from before a re-key) or it is too long for pylibsrtp's own buffer; `status` then tells why
 * (libsrtp's srtp_err_status_t; -1: too long).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stdint.h>
#include <string.h>

/* libsrtp 2's srtp_unprotect / srtp_unprotect_rtcp(srtp_t ctx, void *hdr, int *len_ptr). */
typedef int (*srtp_unprotect_fn)(void *ctx, void *packet, int *length);

#define DATAGRAM_MAX 1500 /* pylibsrtp's buffer: what aiortc could unprotect, no more */
#define TOO_LONG (-1)

typedef struct {
    PyObject_HEAD
    PyObject *session; /* the pylibsrtp.Session owning the context */
    srtp_unprotect_fn unprotect;
    srtp_unprotect_fn unprotect_rtcp;
    void *context;
    int status;
    _Alignas(16) unsigned char buffer[DATAGRAM_MAX]; /* libsrtp reads headers as 32-bit words */
} Unprotector;

static int
Unprotector_init(Unprotector *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"session", "unprotect", "unprotect_rtcp", "context", NULL};
    PyObject *session;
    unsigned long long unprotect, unprotect_rtcp, context;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OKKK:Unprotector", keywords, &session, &unprotect,
                                     &unprotect_rtcp, &context))
        return -1;
    if (!unprotect || !unprotect_rtcp || !context) {
        PyErr_SetString(PyExc_ValueError, "null srtp_unprotect, srtp_unprotect_rtcp or context");
        return -1;
    }
    Py_INCREF(session);
    Py_XSETREF(self->session, session);
    self->unprotect = (srtp_unprotect_fn)(uintptr_t)unprotect;
    self->unprotect_rtcp = (srtp_unprotect_fn)(uintptr_t)unprotect_rtcp;
    self->context = (void *)(uintptr_t)context;
    return 0;
}

static PyObject *
process(Unprotector *self, PyObject *data, srtp_unprotect_fn function)
{
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "packet must be bytes");
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    if (size > DATAGRAM_MAX) {
        self->status = TOO_LONG;
        Py_RETURN_NONE;
    }
    memcpy(self->buffer, PyBytes_AS_STRING(data), (size_t)size);
    int length = (int)size;
    int status = function(self->context, self->buffer, &length);
    if (status != 0) {
        self->status = status;
        Py_RETURN_NONE;
    }
    return PyBytes_FromStringAndSize((const char *)self->buffer, length);
}

static PyObject *
Unprotector_rtp(Unprotector *self, PyObject *data)
{
    return process(self, data, self->unprotect);
}

static PyObject *
Unprotector_rtcp(Unprotector *self, PyObject *data)
{
    return process(self, data, self->unprotect_rtcp);
}

static int
Unprotector_traverse(Unprotector *self, visitproc visit, void *arg)
{
    Py_VISIT(self->session);
    return 0;
}

static int
Unprotector_clear(Unprotector *self)
{
    Py_CLEAR(self->session);
    return 0;
}

static void
Unprotector_dealloc(Unprotector *self)
{
    PyObject_GC_UnTrack(self);
    Unprotector_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Unprotector_methods[] = {
    {"rtp", (PyCFunction)Unprotector_rtp, METH_O, "rtp(datagram) -> the RTP packet, or None (see status)"},
    {"rtcp", (PyCFunction)Unprotector_rtcp, METH_O, "rtcp(datagram) -> the RTCP packet, or None (see status)"},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Unprotector_members[] = {
    {"status", T_INT, offsetof(Unprotector, status), READONLY,
     "why the last refused packet was refused: libsrtp's status, -1 for too long"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject UnprotectorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "server.sfu._srtp_recv.Unprotector",
    .tp_doc = "Unprotector(session, unprotect, unprotect_rtcp, context): incoming SRTP and SRTCP "
              "unprotected with a libsrtp context.",
    .tp_basicsize = sizeof(Unprotector),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Unprotector_init,
    .tp_dealloc = (destructor)Unprotector_dealloc,
    .tp_traverse = (traverseproc)Unprotector_traverse,
    .tp_clear = (inquiry)Unprotector_clear,
    .tp_methods = Unprotector_methods,
    .tp_members = Unprotector_members,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "server.sfu._srtp_recv",
    .m_doc = "Incoming SRTP and SRTCP unprotected in one call (see server/sfu/srtp_recv.py).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__srtp_recv(void)
{
    if (PyType_Ready(&UnprotectorType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Unprotector", (PyObject *)&UnprotectorType) < 0 ||
        PyModule_AddIntConstant(m, "TOO_LONG", TOO_LONG) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
