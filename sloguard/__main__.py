from sloguard.cli import main

main()
