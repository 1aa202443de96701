# cython: language_level=3, boundscheck=False, wraparound=False
"""Record element -> record, walking the element's libxml2 tree in C (shapes in schemas/records.py).

The producer's hot loop: the same walk through lxml's Python API cost ~85 µs per release, most of it creating
proxy objects for every child. Here the tree's structs are read directly (node type, name, children, text and
attribute content) through lxml's public C API; nothing calls libxml2, so the module links against nothing.

Rules (records.py's docstring): every child is optional; absent, empty and whitespace-only values are None or [];
foreign ids of 0 become None; a later child of the same name replaces an earlier one, except `released`,
`master_id`, `year` and `parentLabel`, where the first counts. Comments and processing instructions are not data.
Conversions that can fail with a message are records_fields' helpers, so a malformed record reads the same
whichever value broke it.
"""

from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport strcmp, strlen

cimport lxml.includes.etreepublic as cetree
from lxml.includes.tree cimport XML_CDATA_SECTION_NODE, XML_ELEMENT_NODE, XML_TEXT_NODE, xmlAttr, xmlNode

from producers import records_fields as f

cetree.import_lxml__etree()


# ---------------------------------------------------------------------------------------------- tree access


cdef inline bint is_ws(char c) noexcept:
    # records_fields.WS: XML white space only (a lone NBSP is a value).
    return c == 32 or c == 9 or c == 13 or c == 10


cdef inline bint is_text(xmlNode* node) noexcept:
    return node.type == XML_TEXT_NODE or node.type == XML_CDATA_SECTION_NODE


cdef object stripped(const char* s, Py_ssize_t n):
    cdef Py_ssize_t start = 0
    while start < n and is_ws(s[start]):
        start += 1
    while n > start and is_ws(s[n - 1]):
        n -= 1
    if n == start:
        return None
    return PyUnicode_DecodeUTF8(s + start, n - start, NULL)


cdef object text_run(xmlNode* node):
    """The stripped text of a run of text nodes (lxml's `.text` of their parent), None if blank."""
    if node is NULL or not is_text(node) or node.content is NULL:
        return None
    if node.next is NULL or not is_text(node.next):
        return stripped(<const char*>node.content, strlen(<const char*>node.content))
    joined = bytearray()  # text split by CDATA sections
    while node is not NULL and is_text(node):
        if node.content is not NULL:
            joined += <bytes>(<const char*>node.content)
        node = node.next
    return stripped(joined, len(joined))


cdef inline object text_of(xmlNode* node):
    return text_run(node.children)


cdef object attr_of(xmlNode* node, const char* name):
    cdef xmlAttr* attr = node.properties
    while attr is not NULL:
        if attr.ns is NULL and strcmp(<const char*>attr.name, name) == 0:
            if attr.children is NULL:
                return None
            return text_run(attr.children)
        attr = attr.next
    return None


cdef inline xmlNode* element_from(xmlNode* node) noexcept:
    while node is not NULL and node.type != XML_ELEMENT_NODE:
        node = node.next
    return node


cdef inline xmlNode* first_child(xmlNode* node) noexcept:
    return element_from(node.children)


cdef inline xmlNode* next_sibling(xmlNode* node) noexcept:
    return element_from(node.next)


cdef inline bint named(xmlNode* node, const char* tag) noexcept:
    return node.ns is NULL and strcmp(<const char*>node.name, tag) == 0


cdef inline str tag_of(xmlNode* node):
    return (<bytes>node.name).decode()


# ---------------------------------------------------------------------------------------------- scalars


cdef object to_int(object value, str what):
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return f.to_int(value, what)  # raises, with the message of every malformed integer


cdef inline object ref_id(object value, str what):
    return to_int(value, what) or None


cdef object to_bool(object value, str what):
    if value is None:
        return None
    if value == "true":
        return True
    if value == "false":
        return False
    return f.to_bool(value, what)


# ---------------------------------------------------------------------------------------------- lists


cdef list texts(xmlNode* node):
    cdef list out = []
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        text = text_of(child)
        if text is not None:
            out.append(text)
        child = next_sibling(child)
    return out


cdef dict fill_texts(dict record, xmlNode* node):
    """Sets each key of `record` that names a child with non-blank text to that text."""
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if child.ns is NULL:
            text = text_of(child)
            if text is not None:
                tag = tag_of(child)
                if tag in record:
                    record[tag] = text
        child = next_sibling(child)
    return record


cdef list artist_credits(xmlNode* node):
    cdef list out = []
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if named(child, b"artist"):
            credit = fill_texts({"id": None, "name": None, "anv": None, "join": None, "role": None, "tracks": None},
                                child)
            credit["id"] = ref_id(credit["id"], "artist id")
            out.append(credit)
        child = next_sibling(child)
    return out


cdef object name_ref(xmlNode* node, object fallback_id):
    """`<name id="N">Name</name>` (aliases, groups, members, sublabels, parentLabel); None if it carries nothing."""
    linked = attr_of(node, b"id")
    if linked is not None:
        linked = ref_id(linked, tag_of(node) + " id")
    if linked is None:
        linked = fallback_id
    name = text_of(node)
    if linked is None and name is None:
        return None
    return {"id": linked, "name": name}


cdef list name_refs(xmlNode* node):
    cdef list out = []
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        ref = name_ref(child, None)
        if ref is not None:
            out.append(ref)
        child = next_sibling(child)
    return out


cdef list members(xmlNode* node):
    """All three shapes: `<name id>` (2025+), `<id>`+`<name id>` (2020), alternating `<id>`/`<name>` (2017)."""
    cdef list ids = []
    cdef list out = []
    cdef Py_ssize_t position = 0
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if named(child, b"id"):
            ids.append(ref_id(text_of(child), "member id"))
        child = next_sibling(child)
    child = first_child(node)
    while child is not NULL:
        if named(child, b"name"):
            ref = name_ref(child, ids[position] if position < len(ids) else None)
            position += 1
            if ref is not None:
                out.append(ref)
        child = next_sibling(child)
    return out


cdef list label_refs(xmlNode* node):
    """`<label name catno id/>` in labels and `<series .../>` in series."""
    cdef list out = []
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        out.append({"id": ref_id(attr_of(child, b"id"), "label id"), "name": attr_of(child, b"name"),
                    "catno": attr_of(child, b"catno")})
        child = next_sibling(child)
    return out


cdef list formats(xmlNode* node):
    cdef list out = []
    cdef list descriptions
    cdef xmlNode* sub
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if named(child, b"format"):
            descriptions = []
            sub = first_child(child)
            while sub is not NULL:
                if named(sub, b"descriptions"):
                    descriptions.extend(texts(sub))
                sub = next_sibling(sub)
            out.append({"name": attr_of(child, b"name"), "qty": attr_of(child, b"qty"),
                        "text": attr_of(child, b"text"), "descriptions": descriptions})
        child = next_sibling(child)
    return out


cdef dict track(xmlNode* node):
    cdef dict record = {"position": None, "title": None, "duration": None, "artists": [], "extraartists": [],
                        "sub_tracks": []}
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if named(child, b"position") or named(child, b"title") or named(child, b"duration"):
            text = text_of(child)
            if text is not None:
                record[tag_of(child)] = text
        elif named(child, b"artists") or named(child, b"extraartists"):
            record[tag_of(child)] = artist_credits(child)
        elif named(child, b"sub_tracks"):
            record["sub_tracks"] = tracks(child)
        child = next_sibling(child)
    return record


cdef list tracks(xmlNode* node):
    cdef list out = []
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if named(child, b"track"):
            out.append(track(child))
        child = next_sibling(child)
    return out


cdef list identifiers(xmlNode* node):
    cdef list out = []
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if named(child, b"identifier"):
            out.append({"type": attr_of(child, b"type"), "description": attr_of(child, b"description"),
                        "value": attr_of(child, b"value")})
        child = next_sibling(child)
    return out


cdef list companies(xmlNode* node):
    cdef list out = []
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if named(child, b"company"):
            company = fill_texts({"id": None, "name": None, "catno": None, "entity_type": None,
                                  "entity_type_name": None, "resource_url": None}, child)
            company["id"] = ref_id(company["id"], "company id")
            company["entity_type"] = to_int(company["entity_type"], "entity_type")
            out.append(company)
        child = next_sibling(child)
    return out


cdef list videos(xmlNode* node):
    cdef list out = []
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if named(child, b"video"):
            src = attr_of(child, b"src")
            out.append(fill_texts({"src": src, "youtube_id": f.youtube_id(src),
                                   "duration": to_int(attr_of(child, b"duration"), "video duration"),
                                   "embed": to_bool(attr_of(child, b"embed"), "video embed"),
                                   "title": None, "description": None}, child))
        child = next_sibling(child)
    return out


cdef list images(xmlNode* node):
    cdef list out = []
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if named(child, b"image"):
            out.append({"type": attr_of(child, b"type"), "uri": attr_of(child, b"uri"),
                        "uri150": attr_of(child, b"uri150"),
                        "width": to_int(attr_of(child, b"width"), "image width"),
                        "height": to_int(attr_of(child, b"height"), "image height")})
        child = next_sibling(child)
    return out


# ---------------------------------------------------------------------------------------------- entities


cdef bint common_field(dict record, xmlNode* child):
    """The children releases and masters share; False if `child` is none of them."""
    if named(child, b"title") or named(child, b"notes") or named(child, b"data_quality"):
        record[tag_of(child)] = text_of(child)
    elif named(child, b"genres") or named(child, b"styles"):
        record[tag_of(child)] = texts(child)
    elif named(child, b"artists"):
        record["artists"] = artist_credits(child)
    elif named(child, b"videos"):
        record["videos"] = videos(child)
    elif named(child, b"images"):
        record["images"] = images(child)
    else:
        return False
    return True


def release(cetree._Element elem, object record_id) -> dict:
    cdef xmlNode* node = elem._c_node
    cdef xmlNode* released = NULL
    cdef xmlNode* master = NULL
    cdef dict record = {
        "id": record_id, "status": attr_of(node, b"status"), "title": None, "artists": [], "extraartists": [],
        "labels": [], "series": [], "formats": [], "genres": [], "styles": [], "country": None,
        "released": None, "year": None, "month": None, "day": None, "notes": None, "data_quality": None,
        "master_id": None, "is_main_release": None, "tracklist": [], "identifiers": [], "videos": [],
        "companies": [], "images": [],
    }
    cdef xmlNode* child = first_child(node)
    while child is not NULL:
        if common_field(record, child):
            pass
        elif named(child, b"tracklist"):
            record["tracklist"] = tracks(child)
        elif named(child, b"extraartists"):
            record["extraartists"] = artist_credits(child)
        elif named(child, b"labels") or named(child, b"series"):
            record[tag_of(child)] = label_refs(child)
        elif named(child, b"formats"):
            record["formats"] = formats(child)
        elif named(child, b"country"):
            record["country"] = text_of(child)
        elif named(child, b"identifiers"):
            record["identifiers"] = identifiers(child)
        elif named(child, b"companies"):
            record["companies"] = companies(child)
        elif named(child, b"released"):
            if released is NULL:
                released = child
        elif named(child, b"master_id"):
            if master is NULL:
                master = child
        child = next_sibling(child)
    if released is not NULL:
        raw = record["released"] = text_of(released)
        record["year"], record["month"], record["day"] = f.split_released(raw)
    if master is not NULL:
        record["master_id"] = ref_id(text_of(master), "master_id")
        record["is_main_release"] = to_bool(attr_of(master, b"is_main_release"), "is_main_release")
    return record


def master(cetree._Element elem, object record_id) -> dict:
    cdef xmlNode* year = NULL
    cdef dict record = {
        "id": record_id, "main_release": None, "artists": [], "genres": [], "styles": [], "notes": None,
        "year": None, "title": None, "data_quality": None, "videos": [], "images": [],
    }
    cdef xmlNode* child = first_child(elem._c_node)
    while child is not NULL:
        if common_field(record, child):
            pass
        elif named(child, b"main_release"):
            record["main_release"] = ref_id(text_of(child), "main_release")
        elif named(child, b"year"):
            if year is NULL:
                year = child
        child = next_sibling(child)
    if year is not NULL:
        record["year"] = to_int(text_of(year), "year") or None
    return record


cdef bint profile_field(dict record, xmlNode* child):
    """The children artists and labels share; False if `child` is none of them."""
    if named(child, b"name") or named(child, b"profile") or named(child, b"data_quality"):
        record[tag_of(child)] = text_of(child)
    elif named(child, b"urls"):
        record["urls"] = texts(child)
    elif named(child, b"images"):
        record["images"] = images(child)
    else:
        return False
    return True


def artist(cetree._Element elem, object record_id) -> dict:
    cdef dict record = {
        "id": record_id, "name": None, "realname": None, "profile": None, "data_quality": None, "urls": [],
        "namevariations": [], "aliases": [], "members": [], "groups": [], "images": [],
    }
    cdef xmlNode* child = first_child(elem._c_node)
    while child is not NULL:
        if profile_field(record, child):
            pass
        elif named(child, b"realname"):
            record["realname"] = text_of(child)
        elif named(child, b"namevariations"):
            record["namevariations"] = texts(child)
        elif named(child, b"aliases") or named(child, b"groups"):
            record[tag_of(child)] = name_refs(child)
        elif named(child, b"members"):
            record["members"] = members(child)
        child = next_sibling(child)
    return record


def label(cetree._Element elem, object record_id) -> dict:
    cdef xmlNode* parent = NULL
    cdef dict record = {
        "id": record_id, "name": None, "contactinfo": None, "profile": None, "data_quality": None,
        "parent_label": None, "urls": [], "sublabels": [], "images": [],
    }
    cdef xmlNode* child = first_child(elem._c_node)
    while child is not NULL:
        if profile_field(record, child):
            pass
        elif named(child, b"contactinfo"):
            record["contactinfo"] = text_of(child)
        elif named(child, b"sublabels"):
            record["sublabels"] = name_refs(child)
        elif named(child, b"parentLabel"):
            if parent is NULL:
                parent = child
        child = next_sibling(child)
    if parent is not NULL:
        record["parent_label"] = name_ref(parent, None)
    return record
