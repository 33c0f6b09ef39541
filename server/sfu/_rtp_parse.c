/*
 * An incoming RTP packet parsed into aiortc's RtpPacket in one call (server/sfu/rtp_parse.py).
 *
 * aiortc's RtpPacket.parse unpacks the header with struct, splits the header extensions into a
 * list of (id, bytes) pairs and matches each against the transport's extension ids in a chain of
 * comparisons, in Python, for every packet a publisher sends. Here the same packet and the same
 * HeaderExtensions are built natively. Only the well-formed common case is parsed: whatever
 * aiortc would refuse or read in an unusual way (a short or truncated packet, a version other
 * than 2, bad padding, an extension value of another length than its format's, a mid that is not
 * UTF-8) gets None, and Python parses it with aiortc's own code, which raises as it always did.
 * tests/unit/test_rtp_parse.py holds both to the same packets.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>

#define RTP_HEADER_LENGTH 12
#define ONE_BYTE_PROFILE 0xBEDE
#define TWO_BYTE_PROFILE 0x1000

/* HeaderExtensions' fields, in the order of aiortc's matching chain (HeaderExtensionsMap.get). */
enum { X_MID, X_REPAIRED_RID, X_RID, X_ABS_SEND_TIME, X_TOFFSET, X_AUDIO_LEVEL, X_TSN, X_COUNT };
static const char *const extension_names[X_COUNT] = {
    "mid", "repaired_rtp_stream_id", "rtp_stream_id", "abs_send_time", "transmission_offset", "audio_level",
    "transport_sequence_number",
};
/* HeaderExtensions' own field order (its dataclass definition), for building one as __init__ does. */
static const int field_order[X_COUNT] = {X_ABS_SEND_TIME, X_AUDIO_LEVEL, X_MID, X_REPAIRED_RID, X_RID, X_TOFFSET, X_TSN};
static PyObject *extension_keys[X_COUNT];

enum { P_VERSION, P_MARKER, P_PAYLOAD_TYPE, P_SEQUENCE_NUMBER, P_TIMESTAMP, P_SSRC, P_CSRC, P_EXTENSIONS, P_PAYLOAD,
       P_PADDING_SIZE, P_COUNT };
/* RtpPacket's attributes, in the order its __init__ sets them. */
static const char *const packet_names[P_COUNT] = {
    "version", "marker", "payload_type", "sequence_number", "timestamp", "ssrc", "csrc", "extensions", "payload",
    "padding_size",
};
static PyObject *packet_keys[P_COUNT];
static PyObject *empty_tuple;

static uint32_t
read_u16(const unsigned char *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

static uint32_t
read_u32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* An instance of a plain Python class without running its __init__ (``cls.__new__(cls)``). */
static PyObject *
new_instance(PyObject *cls)
{
    PyTypeObject *type = (PyTypeObject *)cls;
    return type->tp_new(type, empty_tuple, NULL);
}

/* The extension ids the transport negotiated (ids[x] = -1: none, which no id read matches); -1 if not readable. */
static int
read_ids(PyObject *id_source, int *ids)
{
    for (int x = 0; x < X_COUNT; x++) {
        PyObject *value = PyObject_GetAttr(id_source, extension_keys[x]);
        if (value == NULL)
            return -1;
        ids[x] = -1;
        if (value != Py_None) {
            long id = PyLong_Check(value) ? PyLong_AsLong(value) : -1;
            Py_DECREF(value);
            if (id == -1 && PyErr_Occurred())
                return -1;
            ids[x] = id >= 1 && id <= 255 ? (int)id : -1; /* an id no extension can carry matches nothing */
        } else {
            Py_DECREF(value);
        }
    }
    return 0;
}

/* One extension value as aiortc reads it; NULL without an error set: aiortc would raise, or read it
 * oddly (struct's error for a wrong length), so Python parses the packet. */
static PyObject *
extension_value(int x, const unsigned char *value, Py_ssize_t length)
{
    PyObject *result;
    switch (x) {
    case X_MID:
        result = PyUnicode_DecodeUTF8((const char *)value, length, "strict");
        break;
    case X_REPAIRED_RID:
    case X_RID:
        result = PyUnicode_DecodeASCII((const char *)value, length, "strict");
        break;
    case X_ABS_SEND_TIME:
        return length == 3 ? PyLong_FromUnsignedLong(((unsigned long)value[0] << 16) | (value[1] << 8) | value[2])
                           : NULL;
    case X_TOFFSET:
        if (length != 3)
            return NULL;
        /* unpack("!l", value + b"\0")[0] >> 8: a signed 24-bit number */
        return PyLong_FromLong((long)(int32_t)(read_u32((const unsigned char[]){value[0], value[1], value[2], 0})) >> 8);
    case X_AUDIO_LEVEL:
        if (length != 1)
            return NULL;
        return Py_BuildValue("(Ni)", PyBool_FromLong(value[0] & 0x80), value[0] & 0x7F);
    default: /* X_TSN */
        return length == 2 ? PyLong_FromUnsignedLong(read_u16(value)) : NULL;
    }
    if (result == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
        PyErr_Clear();
    return result;
}

/* aiortc's HeaderExtensionsMap.get over the block at data[0:length]; 0 done, 1 leave it to Python, -1 error. */
static int
read_extensions(unsigned int profile, const unsigned char *data, Py_ssize_t length, const int *ids, PyObject **values)
{
    Py_ssize_t pos = 0;
    if (profile != ONE_BYTE_PROFILE && profile != TWO_BYTE_PROFILE)
        return 0;
    while (pos < length) {
        if (data[pos] == 0) { /* padding */
            pos++;
            continue;
        }
        int id;
        Py_ssize_t size;
        if (profile == ONE_BYTE_PROFILE) {
            id = data[pos] >> 4;
            size = (data[pos] & 0x0F) + 1;
            pos += 1;
        } else {
            if (length < pos + 2)
                return 1;
            id = data[pos];
            size = data[pos + 1];
            pos += 2;
        }
        if (length < pos + size)
            return 1;
        for (int x = 0; x < X_COUNT; x++) {
            if (ids[x] != id)
                continue;
            PyObject *value = extension_value(x, data + pos, size);
            if (value == NULL)
                return PyErr_Occurred() ? -1 : 1;
            Py_XSETREF(values[x], value);
            break;
        }
        pos += size;
    }
    return 0;
}

static PyObject *
build_extensions(PyObject *extensions_type, PyObject **values)
{
    PyObject *extensions = new_instance(extensions_type);
    if (extensions == NULL)
        return NULL;
    for (int i = 0; i < X_COUNT; i++) {
        int x = field_order[i];
        if (PyObject_SetAttr(extensions, extension_keys[x], values[x] ? values[x] : Py_None) < 0) {
            Py_DECREF(extensions);
            return NULL;
        }
    }
    return extensions;
}

/* parse(data, id_source, packet_type, extensions_type): an RtpPacket, or None for Python to parse. */
static PyObject *
parse(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyBytes_CheckExact(args[0]) || !PyType_Check(args[2]) || !PyType_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "parse(data: bytes, id_source, packet_type, extensions_type)");
        return NULL;
    }
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t length = PyBytes_GET_SIZE(args[0]);
    if (length < RTP_HEADER_LENGTH || data[0] >> 6 != 2)
        Py_RETURN_NONE;
    int padding = (data[0] >> 5) & 1, extension = (data[0] >> 4) & 1, cc = data[0] & 0x0F;
    Py_ssize_t pos = RTP_HEADER_LENGTH + 4 * cc;
    if (length < pos)
        Py_RETURN_NONE;
    PyObject *values[X_COUNT] = {NULL};
    PyObject *fields[P_COUNT] = {NULL};
    PyObject *packet = NULL;
    int padding_size = 0;
    if (extension) {
        int ids[X_COUNT];
        if (length < pos + 4)
            Py_RETURN_NONE;
        unsigned int profile = read_u16(data + pos);
        Py_ssize_t extension_length = 4 * (Py_ssize_t)read_u16(data + pos + 2);
        pos += 4;
        if (length < pos + extension_length)
            Py_RETURN_NONE;
        if (read_ids(args[1], ids) < 0)
            return NULL;
        int read = read_extensions(profile, data + pos, extension_length, ids, values);
        if (read != 0) {
            packet = read < 0 ? NULL : Py_NewRef(Py_None);
            goto done;
        }
        pos += extension_length;
    }
    if (padding) {
        padding_size = data[length - 1];
        if (!padding_size || padding_size > length - pos) {
            packet = Py_NewRef(Py_None);
            goto done;
        }
    }
    if ((fields[P_VERSION] = PyLong_FromLong(2)) == NULL || (fields[P_MARKER] = PyLong_FromLong(data[1] >> 7)) == NULL ||
        (fields[P_PAYLOAD_TYPE] = PyLong_FromLong(data[1] & 0x7F)) == NULL ||
        (fields[P_SEQUENCE_NUMBER] = PyLong_FromUnsignedLong(read_u16(data + 2))) == NULL ||
        (fields[P_TIMESTAMP] = PyLong_FromUnsignedLong(read_u32(data + 4))) == NULL ||
        (fields[P_SSRC] = PyLong_FromUnsignedLong(read_u32(data + 8))) == NULL ||
        (fields[P_CSRC] = PyList_New(cc)) == NULL ||
        (fields[P_EXTENSIONS] = build_extensions(args[3], values)) == NULL ||
        (fields[P_PAYLOAD] = PyBytes_FromStringAndSize((const char *)data + pos, length - pos - padding_size)) == NULL ||
        (fields[P_PADDING_SIZE] = PyLong_FromLong(padding_size)) == NULL)
        goto done;
    for (int i = 0; i < cc; i++) {
        PyObject *csrc = PyLong_FromUnsignedLong(read_u32(data + RTP_HEADER_LENGTH + 4 * i));
        if (csrc == NULL)
            goto done;
        PyList_SET_ITEM(fields[P_CSRC], i, csrc);
    }
    if ((packet = new_instance(args[2])) == NULL)
        goto done;
    for (int p = 0; p < P_COUNT; p++) {
        if (PyObject_SetAttr(packet, packet_keys[p], fields[p]) < 0) {
            Py_CLEAR(packet);
            goto done;
        }
    }
done:
    for (int x = 0; x < X_COUNT; x++)
        Py_XDECREF(values[x]);
    for (int p = 0; p < P_COUNT; p++)
        Py_XDECREF(fields[p]);
    return packet;
}

static PyMethodDef module_methods[] = {
    {"parse", (PyCFunction)(void (*)(void))parse, METH_FASTCALL,
     "parse(data, id_source, packet_type, extensions_type) -> RtpPacket, or None where aiortc must parse it."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "server.sfu._rtp_parse",
    .m_doc = "An incoming RTP packet parsed into aiortc's RtpPacket in one call (see server/sfu/rtp_parse.py).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__rtp_parse(void)
{
    for (int x = 0; x < X_COUNT; x++)
        if (extension_keys[x] == NULL && (extension_keys[x] = PyUnicode_InternFromString(extension_names[x])) == NULL)
            return NULL;
    for (int p = 0; p < P_COUNT; p++)
        if (packet_keys[p] == NULL && (packet_keys[p] = PyUnicode_InternFromString(packet_names[p])) == NULL)
            return NULL;
    if (empty_tuple == NULL && (empty_tuple = PyTuple_New(0)) == NULL)
        return NULL;
    return PyModule_Create(&module);
}
