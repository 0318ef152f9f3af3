#!/usr/bin/env python3
"""Checks that ptapi's packaging files agree with the CMake package (ctest package.consistency).

The CMake targets of the top CMakeLists.txt are the reference: components (EXPORT_NAME), the dependencies
each links and the definitions each sets. Against them, read as text, JSON or Python syntax tree (never
run), are checked:
  - cmake/ptapi_dependencies.cmake (what each component's lookup finds, the PTAPI_WITH_* options) and
    cmake/ptapi-config.cmake.in (its list of components);
  - conanfile.py (options, requirements per option, components with their requires, defines and target names);
  - ports/ptapi/vcpkg.json (dependencies, features, version) and portfile.cmake (feature -> option);
  - cmake/ptapi*.pc.in (Requires and Cflags of each module);
  - scripts/install-deps.sh (a Debian -dev package for each dependency, in the default set).
Prints one line per check and exits 1 when any disagrees. Python 3.8+, standard library only.
"""
import ast
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One dependency, as each packaging system names it. Boost has no pkg-config module (None).
DEPENDENCIES = {
    # name:       CMake link item         Conan requirement  Conan cpp_info requires  vcpkg port  pkg-config    Debian package
    "boost":      ("Boost::headers",       "boost",           "boost::headers",        "boost-*",  None,           "libboost1.81-dev"),
    "fmt":        ("fmt::fmt",             "fmt",             "fmt::fmt",              "fmt",      "fmt",          "libfmt-dev"),
    "opus":       ("ptapi::dep_opus",      "opus",            "opus::opus",            "opus",     "opus",         "libopus-dev"),
    "crypto":     ("ptapi::dep_crypto",    "openssl",         "openssl::crypto",       "openssl",  "libcrypto",    "libssl-dev"),
    "ssl":        ("ptapi::dep_ssl",       "openssl",         "openssl::ssl",          "openssl",  "libssl",       "libssl-dev"),
    "srtp":       ("ptapi::dep_srtp",      "libsrtp",         "libsrtp::libsrtp",      "libsrtp",  "libsrtp2",     "libsrtp2-dev"),
    "cares":      ("ptapi::dep_cares",     "c-ares",          "c-ares::cares",         "c-ares",   "libcares",     "libc-ares-dev"),
    "spandsp":    ("ptapi::dep_spandsp",   "spandsp",         "spandsp::spandsp",      "spandsp",  "spandsp",      "libspandsp-dev"),
    "portaudio":  ("ptapi::dep_portaudio", "portaudio",       "portaudio::portaudio",  "portaudio", "portaudio-2.0", "portaudio19-dev"),
    "speexdsp":   ("ptapi::dep_speexdsp",  "speexdsp",        "speexdsp::speexdsp",    "speexdsp", "speexdsp",     "libspeexdsp-dev"),
    "sndfile":    ("ptapi::dep_sndfile",   "libsndfile",      "libsndfile::libsndfile", "libsndfile", "sndfile",    "libsndfile1-dev"),
    "samplerate": ("ptapi::dep_samplerate", "libsamplerate",  "libsamplerate::libsamplerate", "libsamplerate", "samplerate", "libsamplerate0-dev"),
}
CMAKE, CONAN_REQ, CONAN_COMP, VCPKG, PKGCONFIG, DEBIAN = range(6)
# Link items that are the platform's, not packages: Threads, libdl.
SYSTEM_LINK_ITEMS = {"Threads::Threads", "${CMAKE_DL_LIBS}"}
# The optional components: Conan option, vcpkg feature, CMake option, pkg-config module.
OPTIONAL = {
    "devices": ("with_devices", "devices", "PTAPI_WITH_DEVICES", "ptapi-devices"),
    "files": ("with_files", "files", "PTAPI_WITH_FILES", "ptapi-files"),
    "dsp": ("with_dsp", "dsp", "PTAPI_WITH_DSP", "ptapi-dsp"),
}
# pkg-config modules: the core one covers mspi and tspi.
PC_MODULES = {"ptapi": ("mspi", "tspi"), "ptapi-devices": ("devices",), "ptapi-files": ("files",),
              "ptapi-dsp": ("dsp",)}

failures = []


def check(what, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}{'' if ok else ': ' + detail}")
    if not ok:
        failures.append(what)


def by_cmake_item(item):
    for name, names in DEPENDENCIES.items():
        if names[CMAKE] == item:
            return name
    return None


def read(path):
    return (ROOT / path).read_text()


# ---------------------------------------------------------------- CMake: the reference
def cmake_components():
    """{component: {"deps": set, "uses": set of components, "defines": set}} from the top CMakeLists.txt."""
    text = re.sub(r"#[^\n]*", "", read("CMakeLists.txt"))
    export = dict(re.findall(r"set_target_properties\((ptapi_\w+)\s+PROPERTIES\s+EXPORT_NAME\s+(\w+)\)", text))
    components = {}
    for target, name in export.items():
        links = re.search(r"target_link_libraries\(" + target + r"\s+INTERFACE\s+([^)]*)\)", text)
        items = links.group(1).split() if links else []
        defines = re.search(r"target_compile_definitions\(" + target + r"\s+INTERFACE\s+([^)]*)\)", text)
        deps, uses = set(), set()
        for item in items:
            if item in export:
                uses.add(export[item])
            elif item.startswith("ptapi::") and item.split("::")[1] in export.values():
                uses.add(item.split("::")[1])
            elif item in SYSTEM_LINK_ITEMS:
                continue
            else:
                dep = by_cmake_item(item)
                check(f"CMakeLists.txt: {target} links a known dependency ({item})", dep is not None,
                      "add it to DEPENDENCIES in scripts/check-packaging.py")
                if dep:
                    deps.add(dep)
        components[name] = {"deps": deps, "uses": uses, "defines": set(defines.group(1).split()) if defines else set()}
    return components


def closure(components, name, key):
    """Everything `name` gets through its uses (transitive), for key deps or defines."""
    seen, todo, out = set(), [name], set()
    while todo:
        c = todo.pop()
        if c in seen:
            continue
        seen.add(c)
        out |= components[c][key]
        todo.extend(components[c]["uses"])
    return out


def check_cmake_files(components):
    deps_text = read("cmake/ptapi_dependencies.cmake")
    body = deps_text[deps_text.index("function(ptapi_find_component_dependencies"):]
    body = body[: body.index("endfunction()")]
    branches = re.split(r"(?:else)?if\(component STREQUAL \"(\w+)\"(?: OR component STREQUAL \"(\w+)\")?\)", body)
    found = {}
    for i in range(1, len(branches) - 2, 3):
        names = [n for n in branches[i:i + 2] if n]
        code = branches[i + 2]
        deps = set()
        for item in re.findall(r"ptapi_dependency\((\w+)", code):
            deps.add(item)
        if "find_package(Boost" in code:
            deps.add("boost")
        if "find_package(fmt" in code:
            deps.add("fmt")
        for item in re.findall(r"ptapi_openssl_dependency\((\w+)", code):
            deps.add(item)
        for other in re.findall(r"ptapi_find_component_dependencies\((\w+)\)", code):
            deps |= found.get(other, set())
        for n in names:
            found[n] = deps
    for name, comp in components.items():
        if name == "ptapi":
            continue
        want = closure(components, name, "deps") - (closure(components, "mspi", "deps") if name in OPTIONAL else set())
        check(f"cmake/ptapi_dependencies.cmake looks up what {name} links", found.get(name) == want,
              f"looks up {sorted(found.get(name, []))}, {name} links {sorted(want)}")
    for comp, (_, _, option, _) in OPTIONAL.items():
        check(f"cmake/ptapi_dependencies.cmake has option {option}", f"option({option} " in deps_text)
        check(f"CMakeLists.txt installs {comp} only with {option}", f"if({option})" in read("CMakeLists.txt"))
    config = read("cmake/ptapi-config.cmake.in")
    listed = re.search(r"set\(_ptapi_components ([^)]*)\)", config).group(1).split()
    check("cmake/ptapi-config.cmake.in lists the CMake components", set(listed) == set(components),
          f"{listed} vs {sorted(components)}")


# ---------------------------------------------------------------- Conan
def option_of(test):
    """'with_x' for `self.options.with_x`, else None."""
    if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Attribute) and test.value.attr == "options":
        return test.attr
    return None


def walk_with_option(stmts, option=None):
    for stmt in stmts:
        if isinstance(stmt, ast.If):
            yield from walk_with_option(stmt.body, option_of(stmt.test) or option)
            yield from walk_with_option(stmt.orelse, option)
        else:
            yield stmt, option


def literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def check_conan(components, version):
    tree = ast.parse(read("conanfile.py"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    attrs, methods = {}, {}
    for node in cls.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            attrs[node.targets[0].id] = literal(node.value)
        elif isinstance(node, ast.FunctionDef):
            methods[node.name] = node
    check("conanfile.py: package_type header-library", attrs.get("package_type") == "header-library")
    check("conanfile.py: name ptapi", attrs.get("name") == "ptapi")
    want_options = {o[0] for o in OPTIONAL.values()}
    check("conanfile.py: options are the optional components", set(attrs.get("options", {})) == want_options,
          f"{sorted(attrs.get('options', {}))} vs {sorted(want_options)}")
    defaults = attrs.get("default_options", {})
    check("conanfile.py: optional components on by default", all(defaults.get(o) is True for o in want_options))

    # requirements(): {option or None: set of dependency names}
    required = {}
    conan_names = {}  # one Conan package may provide several dependencies (openssl: libcrypto and libssl)
    for name, names in DEPENDENCIES.items():
        conan_names.setdefault(names[CONAN_REQ], set()).add(name)
    for stmt, option in walk_with_option(methods["requirements"].body):
        for call in ast.walk(stmt):
            if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "requires":
                ref = literal(call.args[0])
                pkg = ref.split("/")[0]
                check(f"conanfile.py: {ref} is a version range", "/[" in ref)
                required.setdefault(option, set()).update(conan_names.get(pkg, {pkg}))
    core = closure(components, "tspi", "deps")
    check("conanfile.py: unconditional requirements are the core's", required.get(None) == core,
          f"{sorted(required.get(None, []))} vs {sorted(core)}")
    for comp, (option, *_rest) in OPTIONAL.items():
        want = components[comp]["deps"]
        check(f"conanfile.py: requirements under {option} are {comp}'s", required.get(option) == want,
              f"{sorted(required.get(option, []))} vs {sorted(want)}")

    # package_info(): components (self._component(name, requires, defines=...)), under which option.
    info = {}
    comp_names = {names[CONAN_COMP]: name for name, names in DEPENDENCIES.items()}
    root_target = None
    for stmt, option in walk_with_option(methods["package_info"].body):
        for call in ast.walk(stmt):
            if not isinstance(call, ast.Call):
                continue
            if getattr(call.func, "attr", "") == "_component":
                name, requires = literal(call.args[0]), literal(call.args[1])
                keywords = {k.arg: literal(k.value) for k in call.keywords}
                info[name] = {"option": option, "defines": set(keywords.get("defines", ())),
                              "deps": {comp_names.get(r, r) for r in requires if "::" in r},
                              "uses": {r for r in requires if "::" not in r}, "target": f"ptapi::{name}"}
            elif (getattr(call.func, "attr", "") == "set_property" and literal(call.args[0]) == "cmake_target_name"
                  and getattr(call.func.value, "attr", "") == "cpp_info"):
                root_target = literal(call.args[1])
    helper = ast.get_source_segment(read("conanfile.py"), methods["_component"]) if "_component" in methods else ""
    check("conanfile.py: _component names its target ptapi::<name>", 'f"ptapi::{name}"' in helper)
    check("conanfile.py: root target ptapi::ptapi", root_target == "ptapi::ptapi", str(root_target))
    want_comps = set(components) - {"ptapi"}   # Conan's root target is the all-components one
    check("conanfile.py: components are the CMake ones", set(info) == want_comps, f"{sorted(info)} vs {sorted(want_comps)}")
    for name in want_comps & set(info):
        c, want = info[name], components[name]
        check(f"conanfile.py: {name} -> ptapi::{name}", c["target"] == f"ptapi::{name}", str(c["target"]))
        check(f"conanfile.py: {name} requires what CMake's links", (c["deps"], c["uses"]) == (want["deps"], want["uses"]),
              f"{sorted(c['deps'])} + {sorted(c['uses'])} vs {sorted(want['deps'])} + {sorted(want['uses'])}")
        check(f"conanfile.py: {name} defines what CMake's does", c["defines"] == want["defines"],
              f"{sorted(c['defines'])} vs {sorted(want['defines'])}")
        want_option = OPTIONAL[name][0] if name in OPTIONAL else None
        check(f"conanfile.py: {name} declared {'under ' + want_option if want_option else 'always'}",
              c["option"] == want_option, str(c["option"]))
    check("conanfile.py: version from CMakeLists.txt", "set_version" in methods and "project\\(ptapi VERSION" in read("conanfile.py"))


# ---------------------------------------------------------------- vcpkg
def vcpkg_names(entries):
    out = set()
    for e in entries:
        name = e if isinstance(e, str) else e["name"]
        if isinstance(e, dict) and e.get("host"):
            continue
        matched = {dep for dep, names in DEPENDENCIES.items()  # openssl: libcrypto and libssl
                   if names[VCPKG] == name or (names[VCPKG].endswith("*") and name.startswith(names[VCPKG][:-1]))}
        out |= matched or {name}
    return out


def check_vcpkg(components, version):
    manifest = json.loads(read("ports/ptapi/vcpkg.json"))
    check("vcpkg.json: version is the CMake project's", manifest.get("version") == version,
          f"{manifest.get('version')} vs {version}")
    core = closure(components, "tspi", "deps")
    check("vcpkg.json: dependencies are the core's", vcpkg_names(manifest["dependencies"]) == core,
          f"{sorted(vcpkg_names(manifest['dependencies']))} vs {sorted(core)}")
    features = manifest.get("features", {})
    want = {f[1] for f in OPTIONAL.values()}
    check("vcpkg.json: features are the optional components", set(features) == want, f"{sorted(features)}")
    check("vcpkg.json: optional components are default features", set(manifest.get("default-features", [])) == want)
    portfile = read("ports/ptapi/portfile.cmake")
    for comp, (_, feature, option, _) in OPTIONAL.items():
        deps = vcpkg_names(features.get(feature, {}).get("dependencies", []))
        check(f"vcpkg.json: feature {feature} has {comp}'s dependencies", deps == components[comp]["deps"],
              f"{sorted(deps)} vs {sorted(components[comp]['deps'])}")
        check(f"portfile.cmake: feature {feature} sets {option}", re.search(rf"\b{feature}\s+{option}\b", portfile) is not None)
    check("portfile.cmake: config fixed up from share/cmake/ptapi", "CONFIG_PATH share/cmake/ptapi" in portfile)
    check("ports/ptapi/usage exists", (ROOT / "ports/ptapi/usage").is_file())


# ---------------------------------------------------------------- pkg-config
def check_pkgconfig(components):
    pc_names = {names[PKGCONFIG]: name for name, names in DEPENDENCIES.items() if names[PKGCONFIG]}
    for module, comps in PC_MODULES.items():
        text = read(f"cmake/{module}.pc.in")
        fields = dict(re.findall(r"^(\w[\w.]*):\s*(.*)$", text, re.M))
        check(f"{module}.pc: Name {module}", fields.get("Name") == module)
        requires = {re.split(r"\s", r.strip())[0] for r in fields.get("Requires", "").split(",") if r.strip()}
        deps = {pc_names.get(r, r) for r in requires if r not in PC_MODULES}
        want = set().union(*(components[c]["deps"] for c in comps))
        if module != "ptapi":
            want -= closure(components, "mspi", "deps")
            check(f"{module}.pc: requires ptapi", "ptapi" in requires)
        want = {d for d in want if DEPENDENCIES[d][PKGCONFIG]}   # Boost: no module
        check(f"{module}.pc: Requires are {'+'.join(comps)}'s dependencies", deps == want,
              f"{sorted(deps)} vs {sorted(want)}")
        defines = {f[2:] for f in fields.get("Cflags", "").split() if f.startswith("-D")}
        want_defines = set().union(*(components[c]["defines"] for c in comps))
        check(f"{module}.pc: Cflags define what {'+'.join(comps)} defines", defines == want_defines,
              f"{sorted(defines)} vs {sorted(want_defines)}")
        check(f"{module}.pc: version from CMake", "@PROJECT_VERSION@" in fields.get("Version", ""))
    for comp, (*_, module) in OPTIONAL.items():
        check(f"pkg-config module for {comp}", module in PC_MODULES)


# ---------------------------------------------------------------- Debian
def check_debian(components):
    script = read("scripts/install-deps.sh")
    default = re.search(r"^core_packages=\"([^\"]*)\"", script, re.M)
    check("install-deps.sh: has a core_packages list", default is not None)
    packages = set(default.group(1).split()) if default else set()
    for dep in closure(components, "ptapi", "deps"):
        pkg = DEPENDENCIES[dep][DEBIAN]
        check(f"install-deps.sh: {pkg} ({dep}) in the default set", pkg in packages)


def main():
    version = re.search(r"project\(ptapi VERSION ([0-9.]+)", read("CMakeLists.txt")).group(1)
    components = cmake_components()
    check("CMakeLists.txt: components mspi, tspi, the optional ones, ptapi",
          set(components) == {"mspi", "tspi", "ptapi"} | set(OPTIONAL), str(sorted(components)))
    check("CMakeLists.txt: ptapi::ptapi uses every component",
          closure(components, "ptapi", "deps") == set(DEPENDENCIES))
    check_cmake_files(components)
    check_conan(components, version)
    check_vcpkg(components, version)
    check_pkgconfig(components)
    check_debian(components)
    print(f"{len(failures)} disagreement(s)" if failures else "packaging files agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
