# he_embed(TARGET NAME DIR): compile every file under DIR into TARGET as a
# table `NAME` of {path, data, size, mime}, so the firmware image carries its
# web UI and an A/B slot is one self-contained file.
function(he_embed target name dir)
	file(GLOB_RECURSE files RELATIVE "${dir}" CONFIGURE_DEPENDS "${dir}/*")
	list(SORT files)
	set(out "${CMAKE_CURRENT_BINARY_DIR}/${name}_embed.c")
	set(deps)
	foreach(f IN LISTS files)
		list(APPEND deps "${dir}/${f}")
	endforeach()
	add_custom_command(OUTPUT "${out}"
		COMMAND ${CMAKE_COMMAND} -DNAME=${name} -DDIR=${dir} -DOUT=${out}
			-P "${PROJECT_SOURCE_DIR}/cmake/embed_gen.cmake"
		DEPENDS ${deps} "${PROJECT_SOURCE_DIR}/cmake/embed_gen.cmake"
		COMMENT "Embedding ${dir}")
	target_sources(${target} PRIVATE "${out}")
endfunction()
