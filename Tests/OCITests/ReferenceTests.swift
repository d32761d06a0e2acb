import OCI
import Testing
