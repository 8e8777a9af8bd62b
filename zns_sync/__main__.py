from zns_sync.cli import main

main()
