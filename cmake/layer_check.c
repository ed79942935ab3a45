/*
 * The link guard of src/lib/CMakeLists.txt: linked with one layer whole
 * and only the layers it declares, so that a call up the layering is an
 * undefined reference. It does nothing when run.
 */
int main(void)
{
    return 0;
}
