print("vfs")
