# cython: language_level=3, boundscheck=False, wraparound=False
"""Record element -> the record's JSON, written in C while walking the element's libxml2 tree.

The producer's hot loop. Walking the tree through lxml's Python API, building dicts and serialising them cost
~100 µs per release; reading the tree's structs (node type, name, children, text and attribute content) through
lxml's public C API and writing JSON straight into a buffer costs a fraction of that. Nothing here calls libxml2,
so the module links against nothing. The JSON is byte for byte what orjson writes for the record (same key order,
compact, UTF-8, the same escapes), so content hashes stay comparable across versions; shapes in schemas/records.py.

Rules (records.py's docstring): every child is optional; absent, empty and whitespace-only values are null or [];
foreign ids of 0 become null; a later child of the same name replaces an earlier one, except `released`,
`master_id`, `year` and `parentLabel`, where the first counts. Comments and processing instructions are not data.
Conversions that can fail with a message, and the derived date parts and YouTube ids, are records_fields'
helpers, so a malformed record reads the same whichever value broke it.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.long cimport PyLong_FromLongLong
from cpython.unicode cimport PyUnicode_DecodeUTF8
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.string cimport memcmp, memcpy, memset, strcmp, strlen

cimport lxml.includes.etreepublic as cetree
from lxml.includes.tree cimport XML_CDATA_SECTION_NODE, XML_ELEMENT_NODE, XML_TEXT_NODE, xmlAttr, xmlNode

from producers import records_fields as f
from schemas.youtube import youtube_id

cetree.import_lxml__etree()

# The widest integer orjson writes; the fast path parses up to 18 digits, which always fit.
cdef object INT_LOW = -(2 ** 63)
cdef object INT_HIGH = 2 ** 64
cdef const char* HEX = b"0123456789abcdef"


# ---------------------------------------------------------------------------------------------- output


cdef class Json:
    """A growing byte buffer with JSON writers."""

    cdef char* buf
    cdef Py_ssize_t size
    cdef Py_ssize_t cap

    def __cinit__(self) -> None:
        self.cap = 8192
        self.size = 0
        self.buf = <char*>PyMem_Malloc(self.cap)
        if self.buf is NULL:
            raise MemoryError()

    def __dealloc__(self) -> None:
        PyMem_Free(self.buf)

    cdef int reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t cap = self.cap
        cdef char* grown
        if self.size + extra <= cap:
            return 0
        while self.size + extra > cap:
            cap *= 2
        grown = <char*>PyMem_Realloc(self.buf, cap)
        if grown is NULL:
            raise MemoryError()
        self.buf, self.cap = grown, cap
        return 0

    cdef int raw(self, const char* s, Py_ssize_t n) except -1:
        self.reserve(n)
        memcpy(self.buf + self.size, s, n)
        self.size += n
        return 0

    cdef int lit(self, const char* s) except -1:
        return self.raw(s, strlen(s))

    cdef int item(self) except -1:
        """Starts a list item: a comma unless the list was just opened (the last byte written tells)."""
        if self.buf[self.size - 1] != 91:  # '['
            return self.raw(b",", 1)
        return 0

    cdef int string(self, const char* s, Py_ssize_t n) except -1:
        """A quoted JSON string of UTF-8 bytes: `"` and `\\` escaped, control characters as orjson writes them."""
        cdef Py_ssize_t i, run = 0
        cdef unsigned char c
        self.reserve(n + 2)
        self.buf[self.size] = b'"'
        self.size += 1
        for i in range(n):
            c = <unsigned char>s[i]
            if c >= 0x20 and c != 0x22 and c != 0x5c:
                continue
            self.raw(s + run, i - run)
            run = i + 1
            self.escape(c)
        self.raw(s + run, n - run)
        self.raw(b'"', 1)
        return 0

    cdef int escape(self, unsigned char c) except -1:
        if c == 0x22:
            return self.raw(b'\\"', 2)
        if c == 0x5c:
            return self.raw(b'\\\\', 2)
        if c == 0x08:
            return self.raw(b'\\b', 2)
        if c == 0x09:
            return self.raw(b'\\t', 2)
        if c == 0x0a:
            return self.raw(b'\\n', 2)
        if c == 0x0c:
            return self.raw(b'\\f', 2)
        if c == 0x0d:
            return self.raw(b'\\r', 2)
        cdef char code[6]
        code[0], code[1], code[2], code[3] = b'\\', b'u', b'0', b'0'
        code[4], code[5] = HEX[c >> 4], HEX[c & 15]
        return self.raw(code, 6)

    cdef int value(self, object value) except -1:
        """None, a bool, an int (in orjson's range) or a str."""
        if value is None:
            return self.raw(b"null", 4)
        if value is True:
            return self.raw(b"true", 4)
        if value is False:
            return self.raw(b"false", 5)
        if isinstance(value, int):
            text = str(value).encode()
            return self.raw(text, len(text))
        encoded = (<str>value).encode()
        return self.string(encoded, len(encoded))

    cdef bytes result(self):
        return PyBytes_FromStringAndSize(self.buf, self.size)


# ---------------------------------------------------------------------------------------------- tree access


cdef inline bint is_ws(char c) noexcept:
    # records_fields.WS: XML white space only (a lone NBSP is a value).
    return c == 32 or c == 9 or c == 13 or c == 10


cdef inline bint is_text(xmlNode* node) noexcept:
    return node.type == XML_TEXT_NODE or node.type == XML_CDATA_SECTION_NODE


cdef int run_span(xmlNode* run, const char** start, Py_ssize_t* length) noexcept:
    """A text run (an element's leading text nodes, or an attribute's value), stripped: 0 if blank or absent,
    1 with `start`/`length` set if it is one node, 2 if it is split in several (CDATA; see run_text)."""
    cdef const char* s
    cdef Py_ssize_t n
    if run is NULL or not is_text(run) or run.content is NULL:
        return 0
    if run.next is not NULL and is_text(run.next):
        return 2
    s = <const char*>run.content
    n = strlen(s)
    while n > 0 and is_ws(s[0]):
        s += 1
        n -= 1
    while n > 0 and is_ws(s[n - 1]):
        n -= 1
    if n == 0:
        return 0
    start[0] = s
    length[0] = n
    return 1


cdef object run_text(xmlNode* run):
    """The stripped str of a text run, None if blank (lxml's `.text`, stripped)."""
    cdef const char* s
    cdef Py_ssize_t n
    cdef int kind = run_span(run, &s, &n)
    if kind == 0:
        return None
    if kind == 1:
        return PyUnicode_DecodeUTF8(s, n, NULL)
    joined = bytearray()
    while run is not NULL and is_text(run):
        if run.content is not NULL:
            joined += <bytes>(<const char*>run.content)
        run = run.next
    return joined.decode().strip(f.WS) or None


cdef inline xmlNode* text(xmlNode* elem) noexcept:
    """The text run of an element (NULL for a missing element)."""
    return NULL if elem is NULL else elem.children


cdef xmlNode* attr(xmlNode* elem, const char* name) noexcept:
    """The value run of an attribute without namespace (NULL if absent or empty)."""
    cdef xmlAttr* a = elem.properties
    while a is not NULL:
        if a.ns is NULL and strcmp(<const char*>a.name, name) == 0:
            return a.children
        a = a.next
    return NULL


cdef bint blank(xmlNode* run) except -1:
    cdef const char* s
    cdef Py_ssize_t n
    cdef int kind = run_span(run, &s, &n)
    return kind == 0 or (kind == 2 and run_text(run) is None)


cdef inline xmlNode* element_from(xmlNode* node) noexcept:
    while node is not NULL and node.type != XML_ELEMENT_NODE:
        node = node.next
    return node


cdef inline xmlNode* first_child(xmlNode* node) noexcept:
    """The first child element; NULL for a missing element too."""
    return NULL if node is NULL else element_from(node.children)


cdef inline xmlNode* next_sibling(xmlNode* node) noexcept:
    return element_from(node.next)


cdef inline bint named(xmlNode* node, const char* tag) noexcept:
    return node.ns is NULL and strcmp(<const char*>node.name, tag) == 0


cdef int collect(xmlNode* node, const char** tags, int count, xmlNode** slots, unsigned int first_wins,
                 unsigned int nonblank) except -1:
    """slots[i] = the child named tags[i]: the last one, or the first where bit i of `first_wins` is set, or the
    last with non-blank text where bit i of `nonblank` is set."""
    cdef int i
    cdef xmlNode* child = first_child(node)
    memset(slots, 0, count * sizeof(xmlNode*))
    while child is not NULL:
        if child.ns is NULL:
            for i in range(count):
                if strcmp(<const char*>child.name, tags[i]) == 0:
                    if (first_wins >> i) & 1 and slots[i] is not NULL:
                        break
                    if (nonblank >> i) & 1 and blank(text(child)):
                        break
                    slots[i] = child
                    break
        child = next_sibling(child)
    return 0


# ---------------------------------------------------------------------------------------------- scalars


cdef int write_text(Json out, xmlNode* run) except -1:
    cdef const char* s
    cdef Py_ssize_t n
    cdef int kind = run_span(run, &s, &n)
    if kind == 1:
        return out.string(s, n)
    if kind == 0:
        return out.raw(b"null", 4)
    return out.value(run_text(run))


cdef int text_field(Json out, const char* key, xmlNode* run) except -1:
    """`key` (with its punctuation) and the text of a run."""
    out.lit(key)
    return write_text(out, run)


cdef int value_field(Json out, const char* key, object value) except -1:
    out.lit(key)
    return out.value(value)


cdef object int_value(xmlNode* run, str what, bint ref):
    """The integer of a text run (None if blank); `ref`: a foreign id, where 0 means 'not linked' (None)."""
    cdef const char* s
    cdef Py_ssize_t n, i
    cdef long long number = 0
    cdef int kind = run_span(run, &s, &n)
    if kind == 0:
        return None
    if kind == 1 and n <= 18:
        for i in range(n):
            if s[i] < 48 or s[i] > 57:  # not 0-9
                break
            number = number * 10 + (s[i] - 48)
        else:
            return None if ref and number == 0 else PyLong_FromLongLong(number)
    value = f.to_int(run_text(run), what)  # int()'s other spellings ("+5", "1_000"), or the error
    if not INT_LOW <= value < INT_HIGH:
        raise ValueError(f"{what} is out of range: {value}")
    return (value or None) if ref else value


cdef object bool_value(xmlNode* run, str what):
    cdef const char* s
    cdef Py_ssize_t n
    cdef int kind = run_span(run, &s, &n)
    if kind == 0:
        return None
    if kind == 1 and n == 4 and memcmp(s, b"true", 4) == 0:
        return True
    if kind == 1 and n == 5 and memcmp(s, b"false", 5) == 0:
        return False
    return f.to_bool(run_text(run), what)


# ---------------------------------------------------------------------------------------------- lists


cdef int write_texts(Json out, xmlNode* node) except -1:
    """The non-blank texts of the children of `node` (none if NULL), as items of the list being written."""
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if not blank(text(child)):
            out.item()
            write_text(out, text(child))
        child = next_sibling(child)
    return 0


cdef int write_text_list(Json out, xmlNode* node) except -1:
    out.raw(b"[", 1)
    write_texts(out, node)
    return out.raw(b"]", 1)


ctypedef int (*ObjectWriter)(Json, xmlNode*) except -1


cdef int write_objects(Json out, xmlNode* node, const char* tag, ObjectWriter write_fields) except -1:
    """A list of one JSON object per child of `node` named `tag` (every element child if NULL; none if `node` is
    NULL); `write_fields` writes an object's fields between its braces."""
    cdef xmlNode* child = first_child(node)
    out.raw(b"[", 1)
    while child is not NULL:
        if tag is NULL or named(child, tag):
            out.item()
            out.raw(b"{", 1)
            write_fields(out, child)
            out.raw(b"}", 1)
        child = next_sibling(child)
    return out.raw(b"]", 1)


cdef const char* CREDIT_TAGS[6]
CREDIT_TAGS[:] = [b"id", b"name", b"anv", b"join", b"role", b"tracks"]


cdef int credit_fields(Json out, xmlNode* artist) except -1:
    cdef xmlNode* s[6]
    collect(artist, CREDIT_TAGS, 6, s, 0, 0b111111)
    out.lit(b'"id":')
    out.value(int_value(text(s[0]), "artist id", True))
    text_field(out, b',"name":', text(s[1]))
    text_field(out, b',"anv":', text(s[2]))
    text_field(out, b',"join":', text(s[3]))
    text_field(out, b',"role":', text(s[4]))
    return text_field(out, b',"tracks":', text(s[5]))


cdef int write_credits(Json out, xmlNode* node) except -1:
    return write_objects(out, node, b"artist", credit_fields)


cdef bint write_name_ref(Json out, xmlNode* node, object fallback_id, bint listed) except -1:
    """`<name id="N">Name</name>` (aliases, groups, members, sublabels, parentLabel), as a list item if `listed`;
    writes nothing and returns False if it carries nothing."""
    linked = int_value(attr(node, b"id"), (<bytes>node.name).decode() + " id", True)
    if linked is None:
        linked = fallback_id
    if linked is None and blank(text(node)):
        return False
    if listed:
        out.item()
    value_field(out, b'{"id":', linked)
    text_field(out, b',"name":', text(node))
    out.raw(b"}", 1)
    return True


cdef int write_name_refs(Json out, xmlNode* node) except -1:
    cdef xmlNode* child = first_child(node)
    out.raw(b"[", 1)
    while child is not NULL:
        write_name_ref(out, child, None, True)
        child = next_sibling(child)
    return out.raw(b"]", 1)


cdef int write_members(Json out, xmlNode* node) except -1:
    """All three shapes: `<name id>` (2025+), `<id>`+`<name id>` (2020), alternating `<id>`/`<name>` (2017)."""
    cdef list ids = []
    cdef Py_ssize_t position = 0
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if named(child, b"id"):
            ids.append(int_value(text(child), "member id", True))
        child = next_sibling(child)
    child = first_child(node)
    out.raw(b"[", 1)
    while child is not NULL:
        if named(child, b"name"):
            write_name_ref(out, child, ids[position] if position < len(ids) else None, True)
            position += 1
        child = next_sibling(child)
    return out.raw(b"]", 1)


cdef int label_ref_fields(Json out, xmlNode* label) except -1:
    out.lit(b'"id":')
    out.value(int_value(attr(label, b"id"), "label id", True))
    text_field(out, b',"name":', attr(label, b"name"))
    return text_field(out, b',"catno":', attr(label, b"catno"))


cdef int write_label_refs(Json out, xmlNode* node) except -1:
    """`<label name catno id/>` in labels and `<series .../>` in series."""
    return write_objects(out, node, NULL, label_ref_fields)


cdef int format_fields(Json out, xmlNode* format) except -1:
    cdef xmlNode* sub = first_child(format)
    out.lit(b'"name":')
    write_text(out, attr(format, b"name"))
    text_field(out, b',"qty":', attr(format, b"qty"))
    text_field(out, b',"text":', attr(format, b"text"))
    out.lit(b',"descriptions":[')
    while sub is not NULL:
        if named(sub, b"descriptions"):
            write_texts(out, sub)
        sub = next_sibling(sub)
    return out.raw(b"]", 1)


cdef int write_formats(Json out, xmlNode* node) except -1:
    return write_objects(out, node, b"format", format_fields)


cdef const char* TRACK_TAGS[6]
TRACK_TAGS[:] = [b"position", b"title", b"duration", b"artists", b"extraartists", b"sub_tracks"]


cdef int track_fields(Json out, xmlNode* track) except -1:
    cdef xmlNode* s[6]
    collect(track, TRACK_TAGS, 6, s, 0, 0b000111)
    out.lit(b'"position":')
    write_text(out, text(s[0]))
    text_field(out, b',"title":', text(s[1]))
    text_field(out, b',"duration":', text(s[2]))
    out.lit(b',"artists":')
    write_credits(out, s[3])
    out.lit(b',"extraartists":')
    write_credits(out, s[4])
    out.lit(b',"sub_tracks":')
    return write_tracks(out, s[5])


cdef int write_tracks(Json out, xmlNode* node) except -1:
    return write_objects(out, node, b"track", track_fields)


cdef int identifier_fields(Json out, xmlNode* identifier) except -1:
    out.lit(b'"type":')
    write_text(out, attr(identifier, b"type"))
    text_field(out, b',"description":', attr(identifier, b"description"))
    return text_field(out, b',"value":', attr(identifier, b"value"))


cdef int write_identifiers(Json out, xmlNode* node) except -1:
    return write_objects(out, node, b"identifier", identifier_fields)


cdef const char* COMPANY_TAGS[6]
COMPANY_TAGS[:] = [b"id", b"name", b"catno", b"entity_type", b"entity_type_name", b"resource_url"]


cdef int company_fields(Json out, xmlNode* company) except -1:
    cdef xmlNode* s[6]
    collect(company, COMPANY_TAGS, 6, s, 0, 0b111111)
    out.lit(b'"id":')
    out.value(int_value(text(s[0]), "company id", True))
    text_field(out, b',"name":', text(s[1]))
    text_field(out, b',"catno":', text(s[2]))
    value_field(out, b',"entity_type":', int_value(text(s[3]), "entity_type", False))
    text_field(out, b',"entity_type_name":', text(s[4]))
    return text_field(out, b',"resource_url":', text(s[5]))


cdef int write_companies(Json out, xmlNode* node) except -1:
    return write_objects(out, node, b"company", company_fields)


cdef const char* VIDEO_TAGS[2]
VIDEO_TAGS[:] = [b"title", b"description"]


cdef int video_fields(Json out, xmlNode* video) except -1:
    cdef xmlNode* s[2]
    collect(video, VIDEO_TAGS, 2, s, 0, 0b11)
    src = run_text(attr(video, b"src"))
    out.lit(b'"src":')
    out.value(src)
    value_field(out, b',"youtube_id":', youtube_id(src))
    value_field(out, b',"duration":', int_value(attr(video, b"duration"), "video duration", False))
    value_field(out, b',"embed":', bool_value(attr(video, b"embed"), "video embed"))
    text_field(out, b',"title":', text(s[0]))
    return text_field(out, b',"description":', text(s[1]))


cdef int write_videos(Json out, xmlNode* node) except -1:
    return write_objects(out, node, b"video", video_fields)


cdef int image_fields(Json out, xmlNode* image) except -1:
    out.lit(b'"type":')
    write_text(out, attr(image, b"type"))
    text_field(out, b',"uri":', attr(image, b"uri"))
    text_field(out, b',"uri150":', attr(image, b"uri150"))
    value_field(out, b',"width":', int_value(attr(image, b"width"), "image width", False))
    return value_field(out, b',"height":', int_value(attr(image, b"height"), "image height", False))


cdef int write_images(Json out, xmlNode* node) except -1:
    return write_objects(out, node, b"image", image_fields)


# ---------------------------------------------------------------------------------------------- entities


cdef enum:
    R_TITLE, R_ARTISTS, R_EXTRAARTISTS, R_LABELS, R_SERIES, R_FORMATS, R_GENRES, R_STYLES, R_COUNTRY, R_RELEASED
    R_NOTES, R_DATA_QUALITY, R_MASTER_ID, R_TRACKLIST, R_IDENTIFIERS, R_VIDEOS, R_COMPANIES, R_IMAGES, R_COUNT

cdef const char* RELEASE_TAGS[R_COUNT]
RELEASE_TAGS[:] = [b"title", b"artists", b"extraartists", b"labels", b"series", b"formats", b"genres", b"styles",
                   b"country", b"released", b"notes", b"data_quality", b"master_id", b"tracklist", b"identifiers",
                   b"videos", b"companies", b"images"]


def release(cetree._Element elem, object record_id) -> bytes:
    cdef xmlNode* node = elem._c_node
    cdef xmlNode* s[R_COUNT]
    cdef Json out = Json()
    collect(node, RELEASE_TAGS, R_COUNT, s, (1 << R_RELEASED) | (1 << R_MASTER_ID), 0)
    value_field(out, b'{"id":', record_id)
    text_field(out, b',"status":', attr(node, b"status"))
    text_field(out, b',"title":', text(s[R_TITLE]))
    out.lit(b',"artists":')
    write_credits(out, s[R_ARTISTS])
    out.lit(b',"extraartists":')
    write_credits(out, s[R_EXTRAARTISTS])
    out.lit(b',"labels":')
    write_label_refs(out, s[R_LABELS])
    out.lit(b',"series":')
    write_label_refs(out, s[R_SERIES])
    out.lit(b',"formats":')
    write_formats(out, s[R_FORMATS])
    out.lit(b',"genres":')
    write_text_list(out, s[R_GENRES])
    out.lit(b',"styles":')
    write_text_list(out, s[R_STYLES])
    text_field(out, b',"country":', text(s[R_COUNTRY]))
    released = run_text(text(s[R_RELEASED]))
    year, month, day = f.split_released(released)
    value_field(out, b',"released":', released)
    value_field(out, b',"year":', year)
    value_field(out, b',"month":', month)
    value_field(out, b',"day":', day)
    text_field(out, b',"notes":', text(s[R_NOTES]))
    text_field(out, b',"data_quality":', text(s[R_DATA_QUALITY]))
    value_field(out, b',"master_id":', int_value(text(s[R_MASTER_ID]), "master_id", True))
    out.lit(b',"is_main_release":')
    out.value(None if s[R_MASTER_ID] is NULL else bool_value(attr(s[R_MASTER_ID], b"is_main_release"),
                                                             "is_main_release"))
    out.lit(b',"tracklist":')
    write_tracks(out, s[R_TRACKLIST])
    out.lit(b',"identifiers":')
    write_identifiers(out, s[R_IDENTIFIERS])
    out.lit(b',"videos":')
    write_videos(out, s[R_VIDEOS])
    out.lit(b',"companies":')
    write_companies(out, s[R_COMPANIES])
    out.lit(b',"images":')
    write_images(out, s[R_IMAGES])
    out.raw(b"}", 1)
    return out.result()


cdef enum:
    M_MAIN_RELEASE, M_ARTISTS, M_GENRES, M_STYLES, M_NOTES, M_YEAR, M_TITLE, M_DATA_QUALITY, M_VIDEOS, M_IMAGES
    M_COUNT

cdef const char* MASTER_TAGS[M_COUNT]
MASTER_TAGS[:] = [b"main_release", b"artists", b"genres", b"styles", b"notes", b"year", b"title", b"data_quality",
                  b"videos", b"images"]


def master(cetree._Element elem, object record_id) -> bytes:
    cdef xmlNode* s[M_COUNT]
    cdef Json out = Json()
    collect(elem._c_node, MASTER_TAGS, M_COUNT, s, 1 << M_YEAR, 0)
    value_field(out, b'{"id":', record_id)
    value_field(out, b',"main_release":', int_value(text(s[M_MAIN_RELEASE]), "main_release", True))
    out.lit(b',"artists":')
    write_credits(out, s[M_ARTISTS])
    out.lit(b',"genres":')
    write_text_list(out, s[M_GENRES])
    out.lit(b',"styles":')
    write_text_list(out, s[M_STYLES])
    text_field(out, b',"notes":', text(s[M_NOTES]))
    out.lit(b',"year":')
    out.value(int_value(text(s[M_YEAR]), "year", True))  # year 0 means unknown, as a foreign id 0
    text_field(out, b',"title":', text(s[M_TITLE]))
    text_field(out, b',"data_quality":', text(s[M_DATA_QUALITY]))
    out.lit(b',"videos":')
    write_videos(out, s[M_VIDEOS])
    out.lit(b',"images":')
    write_images(out, s[M_IMAGES])
    out.raw(b"}", 1)
    return out.result()


cdef enum:
    A_NAME, A_REALNAME, A_PROFILE, A_DATA_QUALITY, A_URLS, A_NAMEVARIATIONS, A_ALIASES, A_MEMBERS, A_GROUPS
    A_IMAGES, A_COUNT

cdef const char* ARTIST_TAGS[A_COUNT]
ARTIST_TAGS[:] = [b"name", b"realname", b"profile", b"data_quality", b"urls", b"namevariations", b"aliases",
                  b"members", b"groups", b"images"]


def artist(cetree._Element elem, object record_id) -> bytes:
    cdef xmlNode* s[A_COUNT]
    cdef Json out = Json()
    collect(elem._c_node, ARTIST_TAGS, A_COUNT, s, 0, 0)
    value_field(out, b'{"id":', record_id)
    text_field(out, b',"name":', text(s[A_NAME]))
    text_field(out, b',"realname":', text(s[A_REALNAME]))
    text_field(out, b',"profile":', text(s[A_PROFILE]))
    text_field(out, b',"data_quality":', text(s[A_DATA_QUALITY]))
    out.lit(b',"urls":')
    write_text_list(out, s[A_URLS])
    out.lit(b',"namevariations":')
    write_text_list(out, s[A_NAMEVARIATIONS])
    out.lit(b',"aliases":')
    write_name_refs(out, s[A_ALIASES])
    out.lit(b',"members":')
    write_members(out, s[A_MEMBERS])
    out.lit(b',"groups":')
    write_name_refs(out, s[A_GROUPS])
    out.lit(b',"images":')
    write_images(out, s[A_IMAGES])
    out.raw(b"}", 1)
    return out.result()


cdef enum:
    L_NAME, L_CONTACTINFO, L_PROFILE, L_DATA_QUALITY, L_PARENT, L_URLS, L_SUBLABELS, L_IMAGES, L_COUNT

cdef const char* LABEL_TAGS[L_COUNT]
LABEL_TAGS[:] = [b"name", b"contactinfo", b"profile", b"data_quality", b"parentLabel", b"urls", b"sublabels",
                 b"images"]


def label(cetree._Element elem, object record_id) -> bytes:
    cdef xmlNode* s[L_COUNT]
    cdef Json out = Json()
    collect(elem._c_node, LABEL_TAGS, L_COUNT, s, 1 << L_PARENT, 0)
    value_field(out, b'{"id":', record_id)
    text_field(out, b',"name":', text(s[L_NAME]))
    text_field(out, b',"contactinfo":', text(s[L_CONTACTINFO]))
    text_field(out, b',"profile":', text(s[L_PROFILE]))
    text_field(out, b',"data_quality":', text(s[L_DATA_QUALITY]))
    out.lit(b',"parent_label":')
    if s[L_PARENT] is NULL or not write_name_ref(out, s[L_PARENT], None, False):
        out.raw(b"null", 4)
    out.lit(b',"urls":')
    write_text_list(out, s[L_URLS])
    out.lit(b',"sublabels":')
    write_name_refs(out, s[L_SUBLABELS])
    out.lit(b',"images":')
    write_images(out, s[L_IMAGES])
    out.raw(b"}", 1)
    return out.result()
