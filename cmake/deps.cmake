# Every dependency comes from a Debian package. Libraries with a pkg-config
# file are found through it (in the cross build pkg-config looks inside the
# arm64 sysroot, see board/arm64-kiosk/toolchain.cmake); the rest by name.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(LWIP REQUIRED IMPORTED_TARGET lwip)
pkg_check_modules(SLIRP REQUIRED IMPORTED_TARGET slirp)
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(MODBUS REQUIRED IMPORTED_TARGET libmodbus)
if(HE_TESTS)
	pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()

function(he_find_lib target name header)
	find_library(${target}_LIB NAMES ${name} REQUIRED)
	find_path(${target}_INC NAMES ${header} REQUIRED)
	add_library(${target} UNKNOWN IMPORTED)
	set_target_properties(${target} PROPERTIES IMPORTED_LOCATION "${${target}_LIB}"
		INTERFACE_INCLUDE_DIRECTORIES "${${target}_INC}")
endfunction()

he_find_lib(dep_mbedcrypto mbedcrypto mbedtls/version.h)
he_find_lib(dep_mbedx509 mbedx509 mbedtls/x509_crt.h)
he_find_lib(dep_mbedtls mbedtls mbedtls/ssl.h)
set_property(TARGET dep_mbedx509 PROPERTY INTERFACE_LINK_LIBRARIES dep_mbedcrypto)
set_property(TARGET dep_mbedtls PROPERTY INTERFACE_LINK_LIBRARIES dep_mbedx509)
he_find_lib(dep_http_parser http_parser http_parser.h)
