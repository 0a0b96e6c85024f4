/* Ethereum's keccak-256 (pad 0x01 ... 0x80, not NIST SHA3's 0x06), one message or many in one call.
 *
 *   keccak256(data) -> 32-byte digest
 *   keccak256_rows(data, row_bytes) -> the digests of each row_bytes-long slice of data, concatenated
 *
 * keccak256_rows hashes a whole Merkle level in one call (fedchain.commit.merkle), without the GIL. The
 * permutation is the plain round of the Keccak reference (theta, rho and pi together, chi, iota), written
 * with constant indices only so the compiler keeps lanes in registers; its rounds alternate between two
 * states. The Keccak team's lane-complementing trick (XKCP) would save about 8% more; it is left out to
 * keep this file readable. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define RATE 136 /* bytes absorbed per permutation: 1600 - 2 * 256 bits */
#define DIGEST 32
#define RATE_LANES (RATE / 8)
/* Below this many bytes of work, releasing the GIL costs more than it frees. */
#define RELEASE_GIL_BYTES 4096

static const uint64_t ROUND_CONSTANTS[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rotation left; n = 0 gives v (the right shift is masked to 0, no undefined shift by 64). */
#define ROL(v, n) (((v) << (n)) | ((v) >> ((64 - (n)) & 63)))

/* Rho's rotation of lane (x, y), at index x + 5y. */
static const unsigned RHO[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43,
                                 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14};

/* Theta's column parities of state A, folded into d[x] = c[x - 1] ^ rol(c[x + 1], 1). */
#define PARITY(A, x) (A[x] ^ A[(x) + 5] ^ A[(x) + 10] ^ A[(x) + 15] ^ A[(x) + 20])
#define THETA(A)                                                                                        \
    c0 = PARITY(A, 0), c1 = PARITY(A, 1), c2 = PARITY(A, 2), c3 = PARITY(A, 3), c4 = PARITY(A, 4);     \
    d0 = c4 ^ ROL(c1, 1), d1 = c0 ^ ROL(c2, 1), d2 = c1 ^ ROL(c3, 1), d3 = c2 ^ ROL(c4, 1), d4 = c3 ^ ROL(c0, 1)
/* Pi moves lane (x, y) to (y, 2x + 3y), so lane X of row Y after pi comes from lane ((X + 3Y) % 5, X),
 * which theta and rho change first. */
#define SRC(X, Y) (((X) + 3 * (Y)) % 5 + 5 * (X))
#define B(A, X, Y) ROL(A[SRC(X, Y)] ^ D(((X) + 3 * (Y)) % 5), RHO[SRC(X, Y)])
#define D(x) ((x) == 0 ? d0 : (x) == 1 ? d1 : (x) == 2 ? d2 : (x) == 3 ? d3 : d4)
/* Row Y of the next state E: theta, rho and pi into b0..b4, then chi (each lane takes the and-not of its two
 * right neighbours). */
#define ROW(A, E, Y)                                                                                    \
    b0 = B(A, 0, Y), b1 = B(A, 1, Y), b2 = B(A, 2, Y), b3 = B(A, 3, Y), b4 = B(A, 4, Y);               \
    E[5 * (Y)] = b0 ^ (~b1 & b2), E[5 * (Y) + 1] = b1 ^ (~b2 & b3), E[5 * (Y) + 2] = b2 ^ (~b3 & b4),  \
    E[5 * (Y) + 3] = b3 ^ (~b4 & b0), E[5 * (Y) + 4] = b4 ^ (~b0 & b1)
/* One round from state A into state E, iota last. */
#define ROUND(A, E, rc) THETA(A); ROW(A, E, 0); ROW(A, E, 1); ROW(A, E, 2); ROW(A, E, 3); ROW(A, E, 4); E[0] ^= (rc)

static void keccak_f1600(uint64_t a[25]) {
    uint64_t e[25], b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
    for (int round = 0; round < 24; round += 2) { /* two rounds a -> e -> a, so no state is copied */
        ROUND(a, e, ROUND_CONSTANTS[round]);
        ROUND(e, a, ROUND_CONSTANTS[round + 1]);
    }
}

/* Lanes are little-endian whatever the host's byte order. */
static uint64_t load64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void keccak256(const uint8_t *in, size_t len, uint8_t out[DIGEST]) {
    uint64_t state[25] = {0};
    for (; len >= RATE; in += RATE, len -= RATE) {
        for (int i = 0; i < RATE_LANES; i++) state[i] ^= load64(in + 8 * i);
        keccak_f1600(state);
    }
    /* The last len < RATE bytes, then the padding: 0x01 after them, 0x80 in the block's last byte. */
    size_t lanes = len / 8, rest = len % 8;
    for (size_t i = 0; i < lanes; i++) state[i] ^= load64(in + 8 * i);
    uint64_t tail = 0x01ULL << (8 * rest);
    for (size_t k = 0; k < rest; k++) tail |= (uint64_t)in[8 * lanes + k] << (8 * k);
    state[lanes] ^= tail;
    state[RATE_LANES - 1] ^= 0x80ULL << 56;
    keccak_f1600(state);
    for (int i = 0; i < DIGEST; i++) out[i] = (uint8_t)(state[i / 8] >> (8 * (i % 8)));
}

static PyObject *py_keccak256(PyObject *module, PyObject *arg) {
    Py_buffer data;
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) < 0) return NULL;
    uint8_t digest[DIGEST];
    if (data.len >= RELEASE_GIL_BYTES) {
        Py_BEGIN_ALLOW_THREADS
        keccak256(data.buf, (size_t)data.len, digest);
        Py_END_ALLOW_THREADS
    } else {
        keccak256(data.buf, (size_t)data.len, digest);
    }
    PyBuffer_Release(&data);
    return PyBytes_FromStringAndSize((const char *)digest, DIGEST);
}

static PyObject *py_keccak256_rows(PyObject *module, PyObject *args) {
    Py_buffer data;
    Py_ssize_t row_bytes;
    if (!PyArg_ParseTuple(args, "y*n:keccak256_rows", &data, &row_bytes)) return NULL;
    if (row_bytes <= 0 || data.len % row_bytes != 0) {
        PyErr_Format(PyExc_ValueError, "need rows of a positive length dividing %zd bytes, got %zd", data.len,
                     row_bytes);
        PyBuffer_Release(&data);
        return NULL;
    }
    Py_ssize_t rows = data.len / row_bytes;
    PyObject *digests = PyBytes_FromStringAndSize(NULL, rows * DIGEST);
    if (digests == NULL) {
        PyBuffer_Release(&data);
        return NULL;
    }
    const uint8_t *in = data.buf;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(digests);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t row = 0; row < rows; row++) {
        keccak256(in + row * row_bytes, (size_t)row_bytes, out + row * DIGEST);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return digests;
}

static PyMethodDef methods[] = {
    {"keccak256", py_keccak256, METH_O,
     "keccak256(data, /)\n--\n\nThe 32-byte keccak-256 digest of a bytes-like object."},
    {"keccak256_rows", py_keccak256_rows, METH_VARARGS,
     "keccak256_rows(data, row_bytes, /)\n--\n\n"
     "The keccak-256 digests of each row_bytes-long slice of a contiguous bytes-like object, concatenated."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fedchain.commit._keccak",
                                    "Ethereum's keccak-256, one message or every row of a buffer.", 0, methods};

PyMODINIT_FUNC PyInit__keccak(void) { return PyModule_Create(&module); }
