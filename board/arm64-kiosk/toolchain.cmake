# Cross toolchain for the arm64-kiosk board (Debian's aarch64-linux-gnu-gcc).
#
# The compiler keeps its own C library from /usr/aarch64-linux-gnu, so
# CMAKE_SYSROOT is deliberately not set: the libraries come from a sysroot of
# arm64 Debian -dev packages that scripts/setup unpacks in
# build/sysroot-arm64 (or $HE_SYSROOT), added as system include dirs, as the
# root for find_library/find_path and as pkg-config's only search path.
# Tests run under qemu-aarch64 through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# The cross C library's own root (headers, libc, libm, ld-linux-aarch64).
set(HE_CROSS_LIBC /usr/aarch64-linux-gnu)

if(NOT HE_SYSROOT)
	if(DEFINED ENV{HE_SYSROOT} AND NOT "$ENV{HE_SYSROOT}" STREQUAL "")
		set(HE_SYSROOT "$ENV{HE_SYSROOT}")
	else()
		get_filename_component(HE_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../../build/sysroot-arm64"
			ABSOLUTE)
	endif()
endif()
if(NOT IS_ABSOLUTE "${HE_SYSROOT}")
	message(FATAL_ERROR "HE_SYSROOT must be an absolute path (got ${HE_SYSROOT}).")
endif()
# try_compile projects read this file again: hand them the same sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES HE_SYSROOT)
if(NOT EXISTS "${HE_SYSROOT}/.he-sysroot")
	message(FATAL_ERROR "No arm64 sysroot in ${HE_SYSROOT}: run scripts/setup first "
		"(or set HE_SYSROOT to one it made).")
endif()

set(_he_libdirs "${HE_SYSROOT}/usr/lib/aarch64-linux-gnu" "${HE_SYSROOT}/lib/aarch64-linux-gnu")

# Library headers, searched after -I and before the cross libc's headers.
set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES "${HE_SYSROOT}/usr/include/aarch64-linux-gnu"
	"${HE_SYSROOT}/usr/include")

# -rpath-link lets the linker follow the libraries' own dependencies
# (libmicrohttpd -> GnuTLS -> nettle...) inside the sysroot.
set(_he_ldflags "")
foreach(dir IN LISTS _he_libdirs)
	string(APPEND _he_ldflags " -L${dir} -Wl,-rpath-link,${dir}")
endforeach()
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_he_ldflags}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_he_ldflags}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${_he_ldflags}")

# find_library/find_path look only in the sysroot and the cross libc;
# find_program finds host tools.
set(CMAKE_FIND_ROOT_PATH "${HE_SYSROOT}" "${HE_CROSS_LIBC}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads only the sysroot's .pc files and prefixes their -I/-L
# paths with the sysroot.
set(ENV{PKG_CONFIG_LIBDIR}
	"${HE_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${HE_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${HE_SYSROOT}")

# Run arm64 programs (tests) under qemu: -L is QEMU_LD_PREFIX (the cross
# libc's loader and libc), -E sets the guest's LD_LIBRARY_PATH (sysroot libraries)
# and GCONV_PATH (glibc's iconv modules, for GB18030 receipts).
find_program(HE_QEMU_AARCH64 qemu-aarch64)
if(NOT HE_QEMU_AARCH64)
	message(FATAL_ERROR "qemu-aarch64 not found: run scripts/setup (Debian package qemu-user).")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR "${HE_QEMU_AARCH64};-L;${HE_CROSS_LIBC};-E;LD_LIBRARY_PATH=${HE_SYSROOT}/usr/lib/aarch64-linux-gnu:${HE_SYSROOT}/lib/aarch64-linux-gnu;-E;GCONV_PATH=${HE_SYSROOT}/usr/lib/aarch64-linux-gnu/gconv")
