# Files under config/ are compiled in, so the binary runs on its embedded defaults from anywhere.
# embed_json(VAR DIR) sets VAR to map entries {"<file name>", R"(...)"}
# for every DIR/*.json; editing one re-runs the configure step, so the binary is never stale.
function(embed_json var dir)
  file(GLOB files CONFIGURE_DEPENDS ${dir}/*.json)
  set(entries "")
  foreach(file ${files})
    get_filename_component(name ${file} NAME_WE)
    file(READ ${file} content)
    string(APPEND entries "      {\"${name}\", R\"duijie_json(${content})duijie_json\"},\n")
  endforeach()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${files})
  set(${var} "${entries}" PARENT_SCOPE)
endfunction()
